//! The crash loop's CI profile: the real `isobar serve` binary, `sync = always`, four writers
//! (unary writes, write streams, overwrites, late data, range deletes, two tables with two
//! families each) with flushes and compactions running, SIGKILLed at five random (seeded)
//! moments and restarted. After every restart each acknowledged write must be there with its
//! last value, no in-doubt request may be half-visible, and scan, aggregate and latest must
//! agree. The long run is `isobar-crashloop --cycles 200` (see docs/reliability.md).

use std::path::PathBuf;

use isobar_reliability::crash::{CrashConfig, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_of_the_server() {
    let config = CrashConfig::ci(PathBuf::from(env!("CARGO_BIN_EXE_isobar")), 0x15_0BA2);
    let summary = run(&config).await.expect("the crash loop runs");
    println!("{}", summary.line());
    assert!(summary.ok(), "{} problems: {:#?}", summary.line(), summary.details);
    assert_eq!(summary.cycles, config.cycles, "every kill cycle ran");
    assert!(summary.acknowledged_writes_checked > 0, "writes were acknowledged and checked");
    assert!(summary.cells_checked > 0, "the store held data");
}
