//! Property tests: garbage never panics the reader; a model (a plain [`ManifestState`]) and the
//! durable manifest agree under random edits, refusals, rotations and reopens.

use std::fs;
use std::path::Path;

use proptest::prelude::*;

use crate::schema::{ColumnDef, ColumnType, FamilyDef};
use crate::selector::{SeriesSelector, TimeRange};

use super::super::*;
use super::{file, history, table};

/// Opens whatever is in `dir`; when that succeeds, a second open must give the same state (the
/// first open may only have cut off a torn tail).
fn open_is_stable(dir: &Path) -> Result<(), TestCaseError> {
    if let Ok((m, state)) = Manifest::create_or_open(dir) {
        drop(m);
        let (_, again) = Manifest::create_or_open(dir).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again, state);
    }
    Ok(())
}

fn valid_manifest_bytes() -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    for group in history() {
        m.apply(&mut state, group).expect("valid group");
    }
    fs::read(m.path()).expect("read")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn garbage_as_a_manifest_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("MANIFEST-000001"), &bytes).expect("write");
        fs::write(dir.path().join(CURRENT), "MANIFEST-000001\n").expect("write");
        open_is_stable(dir.path())?;
    }

    #[test]
    fn a_damaged_manifest_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = valid_manifest_bytes();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("MANIFEST-000001"), &bytes).expect("write");
        fs::write(dir.path().join(CURRENT), "MANIFEST-000001\n").expect("write");
        open_is_stable(dir.path())?;
    }

    #[test]
    fn garbage_as_current_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join(CURRENT), &bytes).expect("write");
        // Either CURRENT is refused or it names a manifest that does not exist.
        let result = Manifest::create_or_open(dir.path());
        prop_assert!(
            matches!(result, Err(Error::BadCurrent { .. } | Error::MissingManifest { .. })),
            "{:?}", result
        );
    }
}

/// One step of the model test; numbers pick among existing objects or shape the edit.
#[derive(Clone, Debug)]
enum Step {
    /// A group of 1 to 3 edits, each from a seed `(kind, a, b)`.
    Group(Vec<(u8, u16, u16)>),
    /// Close and reopen the manifest.
    Reopen,
    /// Rotate now.
    Rotate,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => proptest::collection::vec((0u8..12, any::<u16>(), any::<u16>()), 1..4).prop_map(Step::Group),
        1 => Just(Step::Reopen),
        1 => Just(Step::Rotate),
    ]
}

fn pick<T: Copy>(items: &[T], a: u16) -> Option<T> {
    items.get(usize::from(a) % items.len().max(1)).copied()
}

/// Builds an edit from a seed against `plan` (mostly valid, sometimes deliberately not).
fn make_edit(plan: &ManifestState, (kind, a, b): (u8, u16, u16)) -> Edit {
    let tables: Vec<u32> = plan.tables.keys().copied().collect();
    let families: Vec<u32> = plan.files.keys().copied().collect();
    let files: Vec<(u32, u64)> = plan.files.iter().flat_map(|(&f, m)| m.keys().map(move |&id| (f, id))).collect();
    let tombstones: Vec<u64> = plan.tombstones.keys().copied().collect();
    let delta = u64::from(b % 5);
    match kind {
        0 => {
            let id = if b % 10 == 0 { pick(&tables, a).unwrap_or(0) } else { plan.next_table_id };
            let fams: Vec<(u32, String)> =
                (0..1 + u32::from(b % 3)).map(|i| (plan.next_family_id + i, format!("f{i}"))).collect();
            let fams: Vec<(u32, &str)> = fams.iter().map(|(i, n)| (*i, n.as_str())).collect();
            Edit::CreateTable(table(id, &format!("t{}", a % 32), &fams))
        }
        1 => {
            let Some(id) = pick(&tables, a) else {
                return Edit::DropTable(u32::from(a));
            };
            let mut def = plan.tables[&id].clone();
            match b % 7 {
                0 => def.families.push(FamilyDef {
                    id: plan.next_family_id,
                    name: format!("g{}", plan.next_family_id),
                    columns: vec![],
                    ttl_ns: Some(i64::from(a)),
                }),
                1 if def.families.len() > 1 => {
                    def.families.pop();
                }
                2..=4 => {
                    let family = &mut def.families[0];
                    let id = family.next_column_id();
                    family.columns.push(ColumnDef { id, name: format!("c{id}"), ty: ColumnType::I64 });
                }
                5 => def.name = format!("r{}", a % 32),
                _ => {
                    // Changes a column's type when there is one: refused.
                    if let Some(c) = def.families[0].columns.first_mut() {
                        c.ty = ColumnType::Bool;
                    }
                }
            }
            Edit::ReplaceTable(def)
        }
        2 => Edit::DropTable(pick(&tables, a).unwrap_or(u32::from(a))),
        3 | 4 => {
            let family = pick(&families, a).unwrap_or(u32::from(a));
            let id = if b % 10 == 0 { pick(&files, b).map_or(0, |f| f.1) } else { plan.next_file_id };
            let mut meta = file(id, family);
            meta.level = u32::from(b % 3);
            Edit::AddFile(meta)
        }
        5 => {
            let (family, id) = pick(&files, a).unwrap_or((u32::from(a), u64::from(b)));
            Edit::RemoveFile { family, id }
        }
        6 => {
            let family = pick(&families, a).unwrap_or(u32::from(a));
            let current = plan.flushed_seq.get(&family).copied().unwrap_or(0);
            Edit::FlushedSeq { family, seq: (current + delta).saturating_sub(1) }
        }
        7 => {
            let Some(t) = pick(&tables, a) else {
                return Edit::RemoveTombstone(u64::from(a));
            };
            let family = (b % 2 == 1).then(|| plan.tables[&t].families[0].id);
            Edit::AddTombstone(Tombstone {
                id: plan.next_tombstone_id,
                table: t,
                family,
                selector: SeriesSelector::Exact(format!("s{b}")),
                range: TimeRange::new(i64::from(a), i64::from(a) + i64::from(b)),
                seq: u64::from(b),
            })
        }
        8 => Edit::RemoveTombstone(pick(&tombstones, a).unwrap_or(u64::from(a))),
        9 => Edit::LastSeq((plan.last_seq + delta).saturating_sub(1)),
        10 => Edit::NextIds {
            table: u32::from(a % 4),
            family: u32::from(b % 4),
            file: u64::from(a % 16),
            tombstone: u64::from(b % 16),
        },
        _ => make_edit(plan, (0, a, b)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn the_manifest_agrees_with_a_model_under_reopens_and_rotations(
        steps in proptest::collection::vec(step(), 1..40),
        max_records in 1u64..8,
        max_bytes in 200u64..4000,
    ) {
        let options = ManifestOptions { max_records, max_bytes };
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut m, mut state) = Manifest::create_or_open_with(dir.path(), options).expect("create");
        let mut model = ManifestState::default();
        for step in steps {
            match step {
                Step::Group(seeds) => {
                    let mut plan = model.clone();
                    let mut group = Vec::new();
                    for seed in seeds {
                        let edit = make_edit(&plan, seed);
                        let _ = plan.apply(&edit);
                        group.push(edit);
                    }
                    let mut next = model.clone();
                    let model_ok = group.iter().try_for_each(|e| next.apply(e)).is_ok();
                    let result = m.apply(&mut state, group);
                    prop_assert_eq!(result.is_ok(), model_ok, "{:?}", result);
                    if model_ok {
                        model = next;
                    } else {
                        prop_assert!(matches!(result, Err(Error::InvalidEdit { .. })), "{:?}", result);
                    }
                }
                Step::Reopen => {
                    drop(m);
                    let (reopened, s) = Manifest::create_or_open_with(dir.path(), options).expect("reopen");
                    m = reopened;
                    state = s;
                }
                Step::Rotate => m.rotate(&state).expect("rotate"),
            }
            prop_assert_eq!(&state, &model);
            let names: Vec<String> = fs::read_dir(dir.path())
                .expect("read dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            prop_assert_eq!(names.iter().filter(|n| n.starts_with("MANIFEST-")).count(), 1, "{:?}", names);
        }
        drop(m);
        let (_, last) = Manifest::create_or_open(dir.path()).expect("reopen");
        prop_assert_eq!(last, model);
    }
}
