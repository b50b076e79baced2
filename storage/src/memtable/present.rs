//! Which rows of a write give a family a row: those with at least one present cell of it.
//!
//! A [`SeriesWrite`](crate::SeriesWrite) is columnar over the timestamps of one series, so a
//! write touching two families carries, for each family, a slot at every timestamp, also where
//! only the other family has a cell. Such a slot is not a row of the family: under last-write-wins
//! an absent cell keeps the old value, so a row with no present cell changes nothing, and storing
//! it would make the family appear to hold a row at a time it was never written (and make the
//! answer of a scan or a latest query depend on how a client batched its writes). The memtable
//! therefore stores only the rows this module keeps; live writes and WAL replay both pass here,
//! so they build the same memtable.

use crate::batch::ColumnValues;

use super::series::ColumnInput;

/// The rows of a write that carry at least one present cell of the family.
#[derive(Debug, PartialEq)]
pub(super) enum Present {
    /// Every row (the usual case: some column has no validity list or an all-true one).
    All,
    /// No row: the write changes nothing in this family.
    None,
    /// Only the rows whose mask entry is true.
    Some(Vec<bool>),
}

/// Which of the `n` rows of `columns` have a present cell.
pub(super) fn present_rows(n: usize, columns: &[ColumnInput<'_>]) -> Present {
    if columns.iter().any(|c| c.validity.is_none()) {
        return Present::All;
    }
    let mut mask = vec![false; n];
    for c in columns {
        for (m, valid) in mask.iter_mut().zip(c.validity.unwrap_or_default()) {
            *m |= *valid;
        }
    }
    match mask.iter().filter(|m| **m).count() {
        0 => Present::None,
        k if k == n => Present::All,
        _ => Present::Some(mask),
    }
}

/// A column of a write restricted to the kept rows (owned, since the rows are copied).
pub(super) struct KeptColumn<'a> {
    input: ColumnInput<'a>,
    values: ColumnValues,
    validity: Option<Vec<bool>>,
}

impl KeptColumn<'_> {
    /// The column as the memtable takes it.
    pub(super) fn input(&self) -> ColumnInput<'_> {
        ColumnInput { id: self.input.id, ty: self.input.ty, values: &self.values, validity: self.validity.as_deref() }
    }
}

/// The timestamps and columns of the rows `mask` keeps.
pub(super) fn keep_rows<'a>(ts: &[i64], columns: &[ColumnInput<'a>], mask: &[bool]) -> (Vec<i64>, Vec<KeptColumn<'a>>) {
    let ts = pick(ts, mask);
    let columns = columns
        .iter()
        .map(|c| {
            let values = match c.values {
                ColumnValues::F64(v) => ColumnValues::F64(pick(v, mask)),
                ColumnValues::I64(v) => ColumnValues::I64(pick(v, mask)),
                ColumnValues::Bool(v) => ColumnValues::Bool(pick(v, mask)),
                ColumnValues::String(v) => ColumnValues::String(pick(v, mask)),
            };
            let validity = c.validity.map(|v| pick(v, mask)).filter(|v| !v.iter().all(|b| *b));
            KeptColumn { input: *c, values, validity }
        })
        .collect();
    (ts, columns)
}

/// The items of `v` whose mask entry is true.
fn pick<T: Clone>(v: &[T], mask: &[bool]) -> Vec<T> {
    v.iter().zip(mask).filter(|(_, keep)| **keep).map(|(x, _)| x.clone()).collect()
}
