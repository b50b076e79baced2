//! The crash loop's judge must catch what it exists to catch: a lost acknowledged cell and a
//! half-applied request, while accepting any prefix of in-doubt messages.

use super::model::{BatchOp, Cells, Op};
use super::verify::{Findings, resolve};
use super::writer::Writer;

/// A writer with three acknowledged writes and two in-doubt ones; returns it and the state with
/// the first in-doubt write applied.
fn writer() -> (Writer, Cells) {
    let mut w = Writer::new(0, 1, 42);
    for _ in 0..3 {
        let op = w.write_op();
        op.apply(&mut w.acked);
    }
    let doubt = vec![w.write_op(), w.write_op()];
    let mut with_first = w.acked.clone();
    doubt[0].apply(&mut with_first);
    w.in_doubt = doubt;
    (w, with_first)
}

#[test]
fn any_prefix_of_in_doubt_messages_is_accepted() {
    let (w, with_first) = writer();
    let acked = w.acked.clone();
    for (observed, applied) in [(acked, 0), (with_first, 1)] {
        let mut ws = vec![Writer::new(0, 1, 42)];
        ws[0].acked = w.acked.clone();
        ws[0].in_doubt = w.in_doubt.clone();
        let mut f = Findings::default();
        resolve(&mut ws, observed.clone(), &mut f);
        assert_eq!((f.losses, f.inconsistencies, f.in_doubt_applied), (0, 0, applied), "{:?}", f.details);
        assert_eq!(ws[0].acked, observed, "the observed state becomes the model");
        assert!(ws[0].in_doubt.is_empty());
    }
}

#[test]
fn a_lost_acknowledged_cell_is_a_loss() {
    let (mut w, _) = writer();
    let mut observed = w.acked.clone();
    let first = observed.keys().next().cloned().expect("cells");
    observed.remove(&first);
    let mut f = Findings::default();
    resolve(std::slice::from_mut(&mut w), observed, &mut f);
    assert!(f.losses >= 1, "a missing acknowledged cell must count as a loss");
}

#[test]
fn a_half_applied_request_is_caught() {
    let (mut w, _) = writer();
    let batch = |table, series: &str| BatchOp { table, series: series.into(), ts: vec![1, 2, 3], columns: vec![0, 2] };
    // One request across both tables; only its first batch is found.
    let whole = Op::Write { id: 999, batches: vec![batch(0, "w000-s9"), batch(1, "w000-s9")] };
    let half = Op::Write { id: 999, batches: vec![batch(0, "w000-s9")] };
    w.in_doubt = vec![whole];
    let mut observed = w.acked.clone();
    half.apply(&mut observed);
    let mut f = Findings::default();
    resolve(std::slice::from_mut(&mut w), observed, &mut f);
    assert!(f.losses + f.inconsistencies > 0, "half a request must not pass: {f:?}");
    assert!(f.details.iter().any(|d| d.contains("explain nothing")), "{:?}", f.details);
}
