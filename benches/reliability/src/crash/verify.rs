//! Verification after a restart: read the whole store back with `Scan`, decide what became of
//! each writer's in-doubt calls, compare with the model, and check that `Aggregate` (count and
//! sum per series and column) and `Latest` (row and per-column) agree with the scanned cells.

use std::collections::BTreeMap;

use isobar_proto::v1 as pb;
use pb::series_selector::Selector;

use super::model::{Cells, TABLES, Ty, Value};
use super::writer::Writer;
use crate::wire::{self, Clients, WireError};

/// What one verification found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Cells of acknowledged writes missing or with another value (for the best explanation of
    /// the in-doubt calls).
    pub losses: u64,
    /// In-doubt messages found applied.
    pub in_doubt_applied: u64,
    /// In-doubt messages found not applied.
    pub in_doubt_absent: u64,
    /// Disagreements between scan, aggregate and latest.
    pub inconsistencies: u64,
    /// The first few problems, for a person.
    pub details: Vec<String>,
}

impl Findings {
    fn note(&mut self, detail: String) {
        if self.details.len() < 12 {
            self.details.push(detail);
        }
    }
}

fn all() -> Option<pb::SeriesSelector> {
    Some(pb::SeriesSelector { selector: Some(Selector::All(pb::AllSeries {})) })
}

/// Every cell of every table, read with one `Scan` per table.
pub async fn read_cells(clients: &mut Clients) -> Result<Cells, WireError> {
    let mut cells = Cells::new();
    for (t, def) in TABLES.iter().enumerate() {
        let request = pb::ScanRequest { table: def.name.into(), selector: all(), ..Default::default() };
        let batches = wire::collect(clients.query.scan(request).await?.into_inner()).await?;
        for b in &batches {
            let series = wire::series(b)?;
            let ts = wire::timestamps(b, "ts")?;
            for (c, cd) in def.columns.iter().enumerate() {
                for (row, v) in wire::values(b, &cd.qualified())?.into_iter().enumerate() {
                    if let (Some(v), Some(ts)) = (v, ts[row]) {
                        cells.insert((t, series[row].clone(), ts, c), v);
                    }
                }
            }
        }
    }
    Ok(cells)
}

/// Splits `cells` by owning writer (series `wNNN-...`); cells of no known writer go to `None`.
fn by_writer(cells: Cells) -> BTreeMap<Option<usize>, Cells> {
    let mut out: BTreeMap<Option<usize>, Cells> = BTreeMap::new();
    for (k, v) in cells {
        let owner = k.1.get(1..4).and_then(|n| n.parse().ok());
        out.entry(owner).or_default().insert(k, v);
    }
    out
}

/// Differences between `expected` and `observed`, as (missing or changed, unexpected).
fn diff(expected: &Cells, observed: &Cells, findings: Option<&mut Findings>, writer: usize) -> (u64, u64) {
    let mut lost = 0;
    let mut extra = 0;
    let mut notes = Vec::new();
    for (k, v) in expected {
        if observed.get(k) != Some(v) {
            lost += 1;
            notes.push(format!("writer {writer}: cell {k:?} expected {v:?}, found {:?}", observed.get(k)));
        }
    }
    for (k, v) in observed {
        if !expected.contains_key(k) {
            extra += 1;
            notes.push(format!("writer {writer}: cell {k:?} = {v:?} present but never written or deleted"));
        }
    }
    if let Some(f) = findings {
        for n in notes.into_iter().take(4) {
            f.note(n);
        }
    }
    (lost, extra)
}

/// Decides each writer's in-doubt calls against `observed` and makes the observed state the
/// writers' acknowledged state. A writer's cells must equal its acknowledged state plus a prefix
/// of its in-doubt messages; anything else is a loss or a half-applied request.
pub fn resolve(writers: &mut [Writer], observed: Cells, findings: &mut Findings) {
    let mut parts = by_writer(observed);
    if let Some(stray) = parts.remove(&None) {
        findings.inconsistencies += stray.len() as u64;
        findings.note(format!("{} cells in series no writer owns, e.g. {:?}", stray.len(), stray.keys().next()));
    }
    for w in writers.iter_mut() {
        let seen = parts.remove(&Some(w.id)).unwrap_or_default();
        let mut state = w.acked.clone();
        let mut matched = (state == seen).then_some(0);
        for (i, op) in w.in_doubt.iter().enumerate() {
            if matched.is_some() {
                break;
            }
            op.apply(&mut state);
            if state == seen {
                matched = Some(i + 1);
            }
        }
        if let Some(mark) = w.producer_mark {
            check_producer_mark(w, mark, &seen, findings);
        }
        match matched {
            Some(p) => {
                findings.in_doubt_applied += p as u64;
                findings.in_doubt_absent += (w.in_doubt.len() - p) as u64;
            }
            None => {
                // No explanation: count against the explanation with the fewest differences.
                let mut state = w.acked.clone();
                let mut best = diff(&state, &seen, None, w.id);
                for op in &w.in_doubt {
                    op.apply(&mut state);
                    let d = diff(&state, &seen, None, w.id);
                    if d.0 + d.1 < best.0 + best.1 {
                        best = d;
                    }
                }
                findings.losses += best.0.max(1);
                findings.inconsistencies += best.1;
                diff(&w.acked, &seen, Some(findings), w.id);
                findings.note(format!("writer {}: {} in-doubt messages explain nothing", w.id, w.in_doubt.len()));
            }
        }
        w.acked = seen;
        w.in_doubt.clear();
        w.in_doubt_seqs.clear();
        if let Some(mark) = w.producer_mark.take() {
            w.producer_acked = mark.max(w.producer_acked);
        }
    }
}

/// The server's producer mark must say exactly what the data holds: the acknowledged state plus
/// the in-doubt producer messages numbered at or below the mark (and no mark below an
/// acknowledged message, or above the last one sent).
fn check_producer_mark(w: &Writer, mark: u64, seen: &Cells, findings: &mut Findings) {
    let last_sent = w.in_doubt_seqs.last().copied().unwrap_or(w.producer_acked);
    if mark < w.producer_acked || mark > last_sent.max(w.producer_acked) {
        findings.inconsistencies += 1;
        findings.note(format!(
            "writer {}: producer mark {mark} outside [{} acknowledged, {last_sent} sent]",
            w.id, w.producer_acked
        ));
        return;
    }
    if w.in_doubt_seqs.is_empty() {
        return;
    }
    let mut state = w.acked.clone();
    for (op, seq) in w.in_doubt.iter().zip(&w.in_doubt_seqs) {
        if *seq <= mark {
            op.apply(&mut state);
        }
    }
    if &state != seen {
        findings.inconsistencies += 1;
        findings.note(format!(
            "writer {}: producer mark {mark} does not match the data (in-doubt seqs {:?})",
            w.id, w.in_doubt_seqs
        ));
    }
}

type PerSeries<T> = BTreeMap<String, T>;

/// Checks `Aggregate` count and sum of every column of every table against `cells`.
pub async fn check_aggregates(clients: &mut Clients, cells: &Cells, findings: &mut Findings) -> Result<(), WireError> {
    for (t, def) in TABLES.iter().enumerate() {
        for (c, cd) in def.columns.iter().enumerate() {
            let mut expected: PerSeries<(i64, Option<Value>)> = BTreeMap::new();
            for ((_, series, _, _), v) in cells.iter().filter(|((tt, _, _, cc), _)| *tt == t && *cc == c) {
                let e = expected.entry(series.clone()).or_insert((0, None));
                e.0 += 1;
                e.1 = match (&e.1, v) {
                    (None, Value::F64(x)) => Some(Value::F64(*x)),
                    (Some(Value::F64(s)), Value::F64(x)) => Some(Value::F64(s + x)),
                    (None, Value::I64(x)) => Some(Value::I64(*x)),
                    (Some(Value::I64(s)), Value::I64(x)) => Some(Value::I64(s + x)),
                    _ => None,
                };
            }
            let func = |f: pb::AggregateFunction, alias: &str| pb::Aggregation {
                function: f.into(),
                column: cd.qualified(),
                alias: alias.into(),
            };
            let mut aggregations = vec![func(pb::AggregateFunction::Count, "n")];
            if cd.ty != Ty::Str {
                aggregations.push(func(pb::AggregateFunction::Sum, "s"));
            }
            let request = pb::AggregateRequest {
                table: def.name.into(),
                selector: all(),
                aggregations,
                group_by: pb::GroupBy::Series.into(),
                ..Default::default()
            };
            let batches = wire::collect(clients.query.aggregate(request).await?.into_inner()).await?;
            let mut got: PerSeries<(i64, Option<Value>)> = BTreeMap::new();
            for b in &batches {
                let series = wire::series(b)?;
                let n = wire::values(b, "n")?;
                let s = if cd.ty != Ty::Str { wire::values(b, "s")? } else { vec![None; b.num_rows()] };
                for (i, key) in series.into_iter().enumerate() {
                    let count = match &n[i] {
                        Some(Value::I64(x)) => *x,
                        _ => 0,
                    };
                    if count > 0 {
                        got.insert(key, (count, s[i].clone()));
                    }
                }
            }
            if got != expected {
                findings.inconsistencies += 1;
                let first = expected.iter().find(|(k, v)| got.get(*k) != Some(v)).map(|(k, _)| k.clone());
                findings.note(format!(
                    "aggregate of {}.{}: count/sum per series disagree with the scan, first at {first:?}",
                    def.name,
                    cd.qualified()
                ));
            }
        }
    }
    Ok(())
}

/// Checks `Latest` (row mode and per-column mode) of every table against `cells`.
pub async fn check_latest(clients: &mut Clients, cells: &Cells, findings: &mut Findings) -> Result<(), WireError> {
    for (t, def) in TABLES.iter().enumerate() {
        let mut newest_row: PerSeries<i64> = BTreeMap::new();
        let mut newest_cell: BTreeMap<(String, usize), (i64, Value)> = BTreeMap::new();
        for ((_, series, ts, c), v) in cells.range((t, String::new(), i64::MIN, 0)..(t + 1, String::new(), i64::MIN, 0))
        {
            let r = newest_row.entry(series.clone()).or_insert(*ts);
            *r = (*r).max(*ts);
            let e = newest_cell.entry((series.clone(), *c)).or_insert((*ts, v.clone()));
            if *ts >= e.0 {
                *e = (*ts, v.clone());
            }
        }
        for mode in [pb::LatestMode::Row, pb::LatestMode::PerColumn] {
            let request =
                pb::LatestRequest { table: def.name.into(), selector: all(), mode: mode.into(), ..Default::default() };
            let batches = wire::collect(clients.query.latest(request).await?.into_inner()).await?;
            let mut rows: PerSeries<i64> = BTreeMap::new();
            let mut per_cell: BTreeMap<(String, usize), (i64, Value)> = BTreeMap::new();
            for b in &batches {
                let series = wire::series(b)?;
                let ts = wire::timestamps(b, "ts")?;
                for (i, key) in series.iter().enumerate() {
                    if let Some(ts) = ts[i] {
                        rows.insert(key.clone(), ts);
                    }
                }
                if mode == pb::LatestMode::PerColumn {
                    for (c, cd) in def.columns.iter().enumerate() {
                        let values = wire::values(b, &cd.qualified())?;
                        // Each value column is followed by `<column>.ts`, the time of that value.
                        let Ok(times) = wire::timestamps(b, &format!("{}.ts", cd.qualified())) else {
                            findings.inconsistencies += 1;
                            findings.note(format!(
                                "latest per column of {}: the answer has no {}.ts column",
                                def.name,
                                cd.qualified()
                            ));
                            continue;
                        };
                        for (i, key) in series.iter().enumerate() {
                            if let Some(v) = values[i].clone() {
                                // A value without its time cannot match what was written.
                                let ts = times.get(i).copied().flatten().unwrap_or(i64::MIN);
                                per_cell.insert((key.clone(), c), (ts, v));
                            }
                        }
                    }
                }
            }
            if rows != newest_row {
                findings.inconsistencies += 1;
                let first = newest_row.iter().find(|(k, v)| rows.get(*k) != Some(v));
                findings
                    .note(format!("latest ({mode:?}) of {}: newest ts per series differs, first {first:?}", def.name));
            }
            if mode == pb::LatestMode::PerColumn && per_cell != newest_cell {
                findings.inconsistencies += 1;
                let first = newest_cell.iter().find(|(k, v)| per_cell.get(*k) != Some(v));
                findings.note(format!("latest per column of {}: differs from the scan, first {first:?}", def.name));
            }
        }
    }
    Ok(())
}
