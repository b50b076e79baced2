//! A small, portable pseudo-random number generator and the few distributions the workloads use.
//!
//! Streams must be identical on every machine, so nothing here calls the platform's math library:
//! `f64::ln` and `f64::cos` may differ in the last bit between libms, and one flipped bit in a
//! random walk can flip a rounded value hours later. [`ln`] and [`cos_turns`] are computed with
//! IEEE-754 `+ - * /` only, which every platform rounds identically (`sqrt` is exact as well).

/// SplitMix64 step: used to expand a seed into a xoshiro state.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256** with a cached second normal deviate from the polar method.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
    spare_normal: Option<f64>,
}

impl Rng {
    /// A generator for sub-stream `stream` of `seed`; distinct streams are independent.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut sm = seed;
        let mut sm = splitmix64(&mut sm) ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let s = [0; 4].map(|_: u64| splitmix64(&mut sm));
        Self { s, spare_normal: None }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in `0..n` (`n > 0`), by multiply-shift (bias below 2^-32 for small `n`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Standard normal deviate (Marsaglia's polar method).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.unit() - 1.0;
            let v = 2.0 * self.unit() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let f = (-2.0 * ln(s) / s).sqrt();
                self.spare_normal = Some(v * f);
                return u * f;
            }
        }
    }

    /// Exponential deviate with mean `scale`.
    pub(crate) fn exponential(&mut self, scale: f64) -> f64 {
        -scale * ln(1.0 - self.unit())
    }
}

/// `1 / (2k + 1)` for the atanh series of [`ln`].
const INV_ODD: [f64; 12] = {
    let mut a = [0.0; 12];
    let mut k = 0;
    while k < 12 {
        a[k] = 1.0 / (2 * k + 1) as f64;
        k += 1;
    }
    a
};

/// Natural logarithm of a positive finite `x`, portable to the last bit.
///
/// `x = m * 2^e` with `m` in `[sqrt(1/2), sqrt(2))`, then `ln m = 2 atanh(s)`, `s = (m-1)/(m+1)`,
/// summed as a series in `s^2` (|s| < 0.172, so 12 terms reach full double precision).
pub(crate) fn ln(x: f64) -> f64 {
    if x < f64::MIN_POSITIVE {
        // Subnormal: scale into the normal range first.
        return ln(x * (1u64 << 54) as f64) - 54.0 * std::f64::consts::LN_2;
    }
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut poly = 0.0;
    for inv in INV_ODD.iter().rev() {
        poly = poly * s2 + inv;
    }
    e as f64 * std::f64::consts::LN_2 + 2.0 * s * poly
}

/// `cos(2 pi t)` for `t` in `[0, 1)` turns, portable to the last bit.
///
/// Folded into `[0, 1/4]` turns by symmetry, then a 12-term Taylor series in `x^2`.
pub(crate) fn cos_turns(t: f64) -> f64 {
    let t = if t > 0.5 { 1.0 - t } else { t };
    let (t, sign) = if t > 0.25 { (0.5 - t, -1.0) } else { (t, 1.0) };
    let x = 2.0 * std::f64::consts::PI * t;
    let x2 = x * x;
    let mut sum = 1.0;
    for k in (1..=12).rev() {
        sum = 1.0 - sum * x2 / f64::from((2 * k - 1) * (2 * k));
    }
    sign * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_math_matches_std_to_a_few_ulps() {
        for &x in &[1e-300, 1e-20, 0.001, 0.3, 0.7, 1.0, 1.5, 2.0, 10.0, 12345.678] {
            assert!((ln(x) - x.ln()).abs() <= 4.0 * f64::EPSILON * x.ln().abs().max(1.0), "{x}");
        }
        for i in 0..1000 {
            let t = f64::from(i) / 1000.0;
            let want = (2.0 * std::f64::consts::PI * t).cos();
            assert!((cos_turns(t) - want).abs() < 1e-14, "{t}");
        }
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(1, 0);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = Rng::new(1, 0);
        assert_eq!(a, (0..4).map(|_| r.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::new(1, 1).next_u64(), a[0]);
        assert_ne!(Rng::new(2, 0).next_u64(), a[0]);
    }

    #[test]
    fn normal_and_exponential_have_the_right_moments() {
        let mut r = Rng::new(9, 0);
        let n = 200_000;
        let z: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.02, "mean {mean} var {var}");
        let e = (0..n).map(|_| r.exponential(0.3)).sum::<f64>() / n as f64;
        assert!((e - 0.3).abs() < 0.005, "exp mean {e}");
        assert!((0..1000).all(|_| r.below(5) < 5));
    }
}
