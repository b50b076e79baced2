//! A small deterministic mutator for the stable smoke run: the same seed gives the same inputs
//! on every machine, so a CI failure reproduces exactly. It is no substitute for coverage-guided
//! fuzzing (`cargo fuzz`), only a cheap net that catches shallow regressions on every run.

/// Inputs never grow past this many bytes.
pub const MAX_LEN: usize = 64 << 10;

/// Interesting values written over bytes and integers.
const BYTES: [u8; 6] = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
const WORDS: [u64; 7] = [0, 1, 0x7f, 0xff, 0xffff_ffff, 0x8000_0000_0000_0000, u64::MAX];

/// Deterministic mutations (splitmix64 stream).
#[derive(Clone, Debug)]
pub struct Mutator {
    state: u64,
}

impl Mutator {
    /// A mutator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// `input` after one to four stacked mutations; `other` is material for splices.
    pub fn mutate(&mut self, input: &[u8], other: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..=self.below(4) {
            self.mutate_once(&mut out, other);
        }
        out.truncate(MAX_LEN);
        out
    }

    fn mutate_once(&mut self, out: &mut Vec<u8>, other: &[u8]) {
        let len = out.len();
        match self.below(9) {
            // Flip one bit.
            0 if len > 0 => {
                let at = self.below(len);
                out[at] ^= 1 << self.below(8);
            }
            // Write an interesting byte.
            1 if len > 0 => {
                let at = self.below(len);
                out[at] = BYTES[self.below(BYTES.len())];
            }
            // Write a random byte.
            2 if len > 0 => {
                let at = self.below(len);
                out[at] = self.next_u64() as u8;
            }
            // Write an interesting little-endian integer of 2, 4 or 8 bytes.
            3 => {
                let width = [2, 4, 8][self.below(3)];
                if len >= width {
                    let at = self.below(len - width + 1);
                    let v = WORDS[self.below(WORDS.len())].to_le_bytes();
                    out[at..at + width].copy_from_slice(&v[..width]);
                }
            }
            // Truncate.
            4 => out.truncate(self.below(len + 1)),
            // Delete a range.
            5 if len > 0 => {
                let at = self.below(len);
                let n = 1 + self.below((len - at).min(64));
                out.drain(at..at + n);
            }
            // Duplicate a range of the input in place.
            6 if len > 0 => {
                let at = self.below(len);
                let n = 1 + self.below((len - at).min(64));
                let piece: Vec<u8> = out[at..at + n].to_vec();
                let to = self.below(len + 1);
                out.splice(to..to, piece);
            }
            // Splice: keep a prefix, continue with a suffix of `other`.
            7 => {
                let cut = self.below(len + 1);
                let from = self.below(other.len() + 1);
                out.truncate(cut);
                out.extend_from_slice(&other[from..]);
            }
            // Insert random bytes.
            _ => {
                let at = self.below(len + 1);
                let n = 1 + self.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| self.next_u64() as u8).collect();
                out.splice(at..at, bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_mutations() {
        let input = b"the quick brown fox jumps over the lazy dog";
        let run = |seed| {
            let mut m = Mutator::new(seed);
            (0..50).map(|_| m.mutate(input, b"other")).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn mutations_change_inputs_and_stay_bounded() {
        let input = vec![0xaa; 1000];
        let mut m = Mutator::new(1);
        let outs: Vec<Vec<u8>> = (0..200).map(|_| m.mutate(&input, &input)).collect();
        assert!(outs.iter().filter(|o| **o != input).count() > 150, "most mutations change the input");
        assert!(outs.iter().all(|o| o.len() <= MAX_LEN));
        assert!(outs.iter().any(|o| o.len() < input.len()), "some mutation shortens");
        assert!(outs.iter().any(|o| o.len() > input.len()), "some mutation lengthens");
    }
}
