//! The stable smoke run of every fuzz target (what CI runs): every committed seed
//! (`corpus/<target>/`), every regression input (`regressions/<target>/`), the seeds freshly
//! built by `isobar_fuzz::seeds`, then `ISOBAR_FUZZ_ITERS` deterministic mutations of them
//! (default 2,000 per target; 20,000 for the cheap `encoding` and `grpc_write`; 500 and 1,000
//! for the WAL targets, which open a log or a database per input); `ISOBAR_FUZZ_SEED` picks
//! another stream. A panic on any thread, or a violated property, fails the test and saves the
//! input under
//! `$CARGO_TARGET_TMPDIR/fuzz-failures/<target>/` for `regressions/<target>/`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use isobar_fuzz::mutate::Mutator;
use isobar_fuzz::{TARGETS, Target};

/// Panics seen on any thread since the last [`take_panics`] (background threads of the engine
/// included, which `catch_unwind` on the test thread would miss).
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Runs one target at a time, so that a background panic is charged to the right input.
static SERIAL: Mutex<()> = Mutex::new(());

fn install_panic_hook() {
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
            PANICS.lock().unwrap_or_else(|e| e.into_inner()).push(format!("thread {thread}: {info}"));
            default(info);
        }));
    });
}

fn take_panics() -> Vec<String> {
    std::mem::take(&mut *PANICS.lock().unwrap_or_else(|e| e.into_inner()))
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files of `dir`, sorted by name (none when it does not exist).
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

fn fresh_seeds() -> &'static Vec<isobar_fuzz::seeds::Seed> {
    static SEEDS: OnceLock<Vec<isobar_fuzz::seeds::Seed>> = OnceLock::new();
    SEEDS.get_or_init(isobar_fuzz::seeds::corpus)
}

fn target(name: &str) -> Target {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).unwrap()
}

/// Runs `input` through `target`; the panics it caused, if any.
fn run_one(target: Target, input: &[u8]) -> Vec<String> {
    let result = catch_unwind(AssertUnwindSafe(|| target(input)));
    let mut panics = take_panics();
    if result.is_err() && panics.is_empty() {
        panics.push("panic without a message".into());
    }
    panics
}

fn save_failure(name: &str, label: &str, input: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(label);
    std::fs::write(&path, input).unwrap();
    path
}

fn smoke(name: &str, default_iters: u64) {
    install_panic_hook();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let target = target(name);
    let committed = files(&fuzz_dir().join("corpus").join(name));
    assert!(!committed.is_empty(), "corpus/{name}/ has no seeds: run `cargo run -p isobar-fuzz --example make_corpus`");
    let regressions = files(&fuzz_dir().join("regressions").join(name));
    let fresh = fresh_seeds().iter().filter(|(t, _, _)| *t == name).map(|(_, n, b)| (format!("fresh-{n}"), b.clone()));
    let mut pool: Vec<(String, Vec<u8>)> = committed.into_iter().map(|(n, b)| (format!("corpus-{n}"), b)).collect();
    pool.extend(regressions.into_iter().map(|(n, b)| (format!("regression-{n}"), b)));
    pool.extend(fresh);
    take_panics();

    let started = Instant::now();
    let mut failures = Vec::new();
    for (label, input) in &pool {
        let panics = run_one(target, input);
        if !panics.is_empty() {
            failures.push((save_failure(name, label, input), panics));
        }
    }
    let iters = env_u64("ISOBAR_FUZZ_ITERS", default_iters);
    let seed = env_u64("ISOBAR_FUZZ_SEED", 0);
    let name_hash =
        name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let mut m = Mutator::new(seed ^ name_hash);
    for i in 0..iters {
        let base = &pool[m.below(pool.len())].1;
        let other = &pool[m.below(pool.len())].1;
        let input = m.mutate(base, other);
        let panics = run_one(target, &input);
        if !panics.is_empty() {
            failures.push((save_failure(name, &format!("seed{seed}-iter{i}"), &input), panics));
            if failures.len() >= 5 {
                break;
            }
        }
    }
    let took = started.elapsed();
    println!("{name}: {} seeds + {iters} mutations in {took:.2?}", pool.len());
    let report: Vec<String> =
        failures.iter().map(|(path, panics)| format!("input {}:\n  {}", path.display(), panics.join("\n  "))).collect();
    assert!(failures.is_empty(), "{name}: {} failing inputs\n{}", failures.len(), report.join("\n"));
}

#[test]
fn sst_file_smoke() {
    smoke("sst_file", 2_000);
}

#[test]
fn sst_mutated_smoke() {
    smoke("sst_mutated", 2_000);
}

#[test]
fn wal_segment_smoke() {
    smoke("wal_segment", 500);
}

#[test]
fn wal_payload_smoke() {
    smoke("wal_payload", 1_000);
}

/// Regression for the finding in README.md ("Findings"): a replayed record whose column types
/// contradicted the catalog made `Db::flush` wait forever. Replay now refuses such records.
#[test]
fn wal_payload_flush_smoke() {
    smoke("wal_payload_flush", 1_000);
}

#[test]
fn manifest_file_smoke() {
    smoke("manifest_file", 2_000);
}

#[test]
fn manifest_records_smoke() {
    smoke("manifest_records", 2_000);
}

#[test]
fn encoding_smoke() {
    smoke("encoding", 20_000);
}

#[test]
fn grpc_write_smoke() {
    smoke("grpc_write", 20_000);
}

#[test]
fn line_protocol_smoke() {
    smoke("line_protocol", 20_000);
}

#[test]
fn pg_frontend_smoke() {
    smoke("pg_frontend", 20_000);
}

/// Every target has a smoke test above, committed seeds, and a cargo-fuzz binary declared in
/// Cargo.toml with its three-line entry point.
#[test]
fn every_target_is_wired_up() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let this = std::fs::read_to_string(fuzz_dir().join("tests").join("smoke.rs")).unwrap();
    for (name, _) in TARGETS {
        assert!(this.contains(&format!("fn {name}_smoke()")), "{name}: no smoke test");
        assert!(!files(&fuzz_dir().join("corpus").join(name)).is_empty(), "{name}: no committed seeds");
        assert!(manifest.contains(&format!("name = \"{name}\"")), "{name}: no [[bin]] in Cargo.toml");
        let entry = std::fs::read_to_string(fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"))).unwrap();
        assert!(entry.contains(&format!("isobar_fuzz::{name}(data)")), "{name}: entry point calls something else");
    }
}
