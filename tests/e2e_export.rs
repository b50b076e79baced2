//! `isobar export` end to end, through the real server and CLI (issue 25, item 5): every
//! partitioning and every column naming lays out its files as documented, on the server
//! (`--dest`, admin) and on this machine (`--to-local`, view is enough) alike; `--overwrite`
//! replaces a previous export and nothing else; files split at `--target-file-size`; the
//! command prints one summary line, or every file with `--verbose`.

mod export_fixture;

use export_fixture::*;

/// `--partition` and what it lays out for the whole table, or for the range given.
struct Case {
    partition: &'static str,
    range: &'static [&'static str],
    dirs: Vec<String>,
    rows: u64,
}

fn cases() -> Vec<Case> {
    let months = std::iter::once("month=2023-12".to_owned())
        .chain((1..=12).map(|m| format!("month=2024-{m:02}")))
        .chain(std::iter::once("month=2025-01".to_owned()))
        .collect();
    vec![
        Case { partition: "none", range: &[], dirs: vec![String::new()], rows: ROWS },
        Case {
            partition: "day",
            range: &["--from", "2024-02-28", "--to", "2024-03-02"],
            dirs: vec!["date=2024-02-28".into(), "date=2024-02-29".into(), "date=2024-03-01".into()],
            rows: 2 * 3 * 24,
        },
        Case { partition: "month", range: &[], dirs: months, rows: ROWS },
        Case {
            partition: "year",
            range: &[],
            dirs: vec!["year=2023".into(), "year=2024".into(), "year=2025".into()],
            rows: ROWS,
        },
        // 17,856 rows of 5 columns: small, so one file without partitions.
        Case { partition: "auto", range: &[], dirs: vec![String::new()], rows: ROWS },
    ]
}

#[test]
fn each_partitioning_lays_out_the_same_files_on_the_server_and_locally() {
    let f = Fixture::start();
    for case in cases() {
        let dest = format!("p-{}", case.partition);
        let local = f.local(&dest);
        let local = local.to_str().expect("utf8");
        let mut server_args = vec!["export", "weather", "--all", "--partition", case.partition, "--dest", &dest];
        server_args.extend(case.range);
        let said = f.ok(true, &server_args);
        let mut local_args = vec!["export", "weather", "--all", "--partition", case.partition, "--to-local", local];
        local_args.extend(case.range);
        let said_locally = f.ok(false, &local_args);

        let on_server = files(&f.export_root.join(&dest));
        let here = files(std::path::Path::new(local));
        assert_eq!(dirs(&on_server), case.dirs, "{}", case.partition);
        assert_eq!(rows(&on_server), case.rows, "{}", case.partition);
        for (path, file) in &on_server {
            let name = path.rsplit('/').next().unwrap_or(path);
            assert!(name.starts_with("part-") && name.ends_with(".parquet"), "{}: {path}", case.partition);
            assert!(file.as_ref().is_some_and(|f| f.rows > 0), "{}: {path}", case.partition);
        }
        if case.dirs.len() > 1 {
            assert_eq!(on_server.len(), case.dirs.len(), "{}: one file per partition", case.partition);
        }
        assert_eq!(here, on_server, "{}: the local export is the server's, file for file", case.partition);

        let bytes: u64 = on_server.values().flatten().map(|f| f.bytes).sum();
        let n = on_server.len();
        let plural = if n == 1 { "" } else { "s" };
        assert_eq!(
            said,
            format!(
                "exported {} rows to {n} file{plural} ({bytes} bytes) in {dest} (in the server's export directory)\n",
                case.rows
            )
        );
        assert_eq!(
            said_locally,
            format!("exported {} rows to {n} file{plural} ({bytes} bytes) in {local}\n", case.rows)
        );
    }
    // csv and json answer a record, with the partitioning auto chose.
    let json = f.ok(true, &["--format", "json", "export", "weather", "--all", "--dest", "auto-json"]);
    assert!(
        json.starts_with("{\"") && json.contains("\"partition\":\"none\"") && json.contains("\"files\":1"),
        "{json}"
    );
    let forced =
        f.ok(true, &["--format", "csv", "export", "weather", "--all", "--partition", "year", "--dest", "y-csv"]);
    assert_eq!(forced.lines().next(), Some("dest,partition,files,rows,bytes"), "{forced}");
    assert!(forced.contains(&format!("y-csv,year,3,{ROWS},")), "{forced}");
}

#[test]
fn each_naming_names_the_columns_on_the_server_and_locally() {
    let f = Fixture::start();
    let scanned = f.ok(false, &["--format", "csv", "scan", "weather", "--all", "-c", "meta.*"]);
    let meta_rows = scanned.lines().count() as u64 - 1;
    let dotted = ["series", "ts", "obs.temp", "obs.rh", "meta.note"];
    let underscore = ["series", "ts", "obs_temp", "obs_rh", "meta_note"];
    for naming in ["dotted", "underscore", "family"] {
        let dest = format!("n-{naming}");
        f.ok(true, &["export", "weather", "--all", "--partition", "none", "--naming", naming, "--dest", &dest]);
        let local = f.local(&dest);
        let local_str = local.to_str().expect("utf8");
        f.ok(
            false,
            &["export", "weather", "--all", "--partition", "none", "--naming", naming, "--to-local", local_str],
        );
        let on_server = files(&f.export_root.join(&dest));
        assert_eq!(files(&local), on_server, "{naming}: the local export is the server's");
        let layout: Vec<(String, Vec<String>, u64)> = on_server
            .iter()
            .map(|(p, file)| {
                let file = file.clone().expect("parquet");
                (p.rsplit_once('/').map(|(d, _)| d.to_owned()).unwrap_or_default(), file.columns, file.rows)
            })
            .collect();
        let strings = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let want = match naming {
            "dotted" => vec![(String::new(), strings(&dotted), ROWS)],
            "underscore" => vec![(String::new(), strings(&underscore), ROWS)],
            _ => vec![
                ("meta".to_owned(), strings(&["series", "ts", "note"]), meta_rows),
                ("obs".to_owned(), strings(&["series", "ts", "temp", "rh"]), ROWS),
            ],
        };
        assert_eq!(layout, want, "{naming}");
    }

    // Names that would clash are refused before anything is written, on both sides.
    f.ok(true, &["table", "create", "clash", "--family", "a_b:c=f64", "--family", "a:b_c=f64"]);
    let refused = f.fails(true, &["export", "clash", "--all", "--naming", "underscore", "--dest", "clash"]);
    assert!(refused.contains("INVALID_ARGUMENT") && refused.contains("\"a_b_c\""), "{refused}");
    assert!(!f.export_root.join("clash").exists(), "nothing created on the server");
    let local = f.local("clash");
    let refused = f.fails(
        false,
        &["export", "clash", "--all", "--naming", "underscore", "--to-local", local.to_str().expect("utf8")],
    );
    assert!(refused.contains("column a.b_c would be exported as \"a_b_c\""), "{refused}");
    assert!(!local.exists(), "nothing created locally");
}

#[test]
fn overwrite_replaces_a_previous_export_and_nothing_else() {
    let f = Fixture::start();
    let day = ["--partition", "day", "--from", "2024-02-28", "--to", "2024-03-02"];
    let local = f.local("o");
    let local_str = local.to_str().expect("utf8");
    for (admin, target, root) in [(true, "--dest", f.export_root.join("o")), (false, "--to-local", local.clone())] {
        let place = if admin { "o" } else { local_str };
        let export = |extra: &[&str]| {
            let mut args = vec!["export", "weather", "--all", target, place];
            args.extend(extra);
            args.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>()
        };
        let run = |extra: &[&str]| f.isobar(admin, &export(extra).iter().map(String::as_str).collect::<Vec<_>>());
        assert!(run(&day).status.success());
        let first = files(&root);
        assert_eq!(first.len(), 3, "{target}");

        let again = run(&["--partition", "none"]);
        assert!(!again.status.success(), "{target}: a second export into a full destination");
        let message = String::from_utf8_lossy(&again.stderr);
        assert!(message.contains("not empty") && message.contains("--overwrite"), "{target}: {message}");
        if admin {
            assert!(message.contains("FAILED_PRECONDITION"), "{message}");
        }
        assert_eq!(files(&root), first, "{target}: a refused export changes nothing");

        assert!(run(&["--partition", "none", "--overwrite"]).status.success(), "{target}");
        let replaced = files(&root);
        assert_eq!(dirs(&replaced), [String::new()], "{target}: the date= directories are gone");
        assert_eq!(rows(&replaced), ROWS, "{target}");

        std::fs::write(root.join("notes.txt"), "mine").expect("a foreign file");
        let foreign = run(&["--partition", "none", "--overwrite"]);
        assert!(!foreign.status.success(), "{target}: a foreign file refuses the overwrite");
        let message = String::from_utf8_lossy(&foreign.stderr);
        assert!(message.contains("notes.txt") && message.contains("which no export wrote"), "{target}: {message}");
        if admin {
            assert!(message.contains("FAILED_PRECONDITION") && message.contains("o/notes.txt"), "{message}");
            assert!(!message.contains(&f.export_root.display().to_string()), "no server path: {message}");
        }
        let mut kept = replaced.clone();
        kept.insert("notes.txt".into(), None);
        assert_eq!(files(&root), kept, "{target}: nothing removed");
    }
}

#[test]
fn files_split_at_the_target_size_and_verbose_lists_them() {
    let f = Fixture::start();
    let target: u64 = 64 << 10;
    let local = f.local("sized");
    let local_str = local.to_str().expect("utf8");
    let sized = ["--partition", "none", "--target-file-size", "64KiB", "--format", "csv", "-v"];
    let listed = f.ok(true, &[&["export", "weather", "--all", "--dest", "sized"][..], &sized].concat());
    let listed_locally = f.ok(false, &[&["export", "weather", "--all", "--to-local", local_str][..], &sized].concat());
    let on_server = files(&f.export_root.join("sized"));
    assert_eq!(files(&local), on_server);
    assert!(on_server.len() >= 3, "~300 KB of values in 64 KiB files: {}", on_server.len());
    assert_eq!(rows(&on_server), ROWS);
    for (path, file) in &on_server {
        let file = file.as_ref().expect("parquet");
        assert!(file.bytes <= target + target / 8, "{path}: {} bytes", file.bytes);
    }
    // --verbose: one line per file (and the header), the paths relative to the export directory.
    assert_eq!(listed.lines().next(), Some("file,rows,bytes"));
    assert_eq!(listed.lines().count(), on_server.len() + 1, "{listed}");
    for (path, file) in &on_server {
        let file = file.as_ref().expect("parquet");
        assert!(listed.contains(&format!("sized/{path},{},{}\n", file.rows, file.bytes)), "{path}: {listed}");
        assert!(
            listed_locally.contains(&format!("{local_str}/{path},{},{}\n", file.rows, file.bytes)),
            "{listed_locally}"
        );
    }

    // The row ceiling holds too.
    f.ok(true, &["export", "weather", "--all", "--partition", "none", "--max-rows-per-file", "5000", "--dest", "rows"]);
    let by_rows: Vec<u64> = files(&f.export_root.join("rows")).values().flatten().map(|f| f.rows).collect();
    assert_eq!(by_rows.iter().sum::<u64>(), ROWS);
    assert_eq!(by_rows.len(), 4, "{by_rows:?}");
    assert!(by_rows.iter().all(|r| *r <= 5000), "{by_rows:?}");

    let refused = f.fails(true, &["export", "weather", "--all", "--target-file-size", "1KiB", "--dest", "tiny"]);
    assert!(refused.contains("64KiB"), "{refused}");
}

#[test]
fn a_viewer_exports_locally_but_not_on_the_server() {
    let f = Fixture::start();
    let refused = f.fails(false, &["export", "weather", "--all", "--dest", "by-viewer"]);
    assert!(refused.contains("PERMISSION_DENIED") && refused.contains("admin"), "{refused}");
    assert!(!f.export_root.join("by-viewer").exists());
    let local = f.local("mine");
    std::fs::create_dir_all(&local).expect("mkdir");
    std::fs::write(local.join("keep.txt"), "x").expect("a file of mine");
    let refused = f.fails(false, &["export", "weather", "--all", "--to-local", local.to_str().expect("utf8")]);
    assert!(refused.contains("is not empty"), "{refused}");
    std::fs::remove_file(local.join("keep.txt")).expect("rm");
    let said = f.ok(false, &["export", "weather", "--all", "--to-local", local.to_str().expect("utf8"), "--progress"]);
    assert!(said.starts_with(&format!("exported {ROWS} rows to 1 file (")), "{said}");
}

#[test]
fn auto_partitions_a_large_export_by_the_span_of_its_data() {
    let f = Fixture::start();
    f.ok(true, &["table", "create", "big", "--family", "obs:a=f64,b=f64,c=f64,d=f64"]);
    // 2 series x 400,000 minutes (278 days) x (series, ts, 4 values): 4.8 M cells, past the
    // 4 Mi of a small export, spanning more than 31 days and less than two years: months.
    let minute = 60_000_000_000i64;
    let mut csv = String::from("series,ts,obs.a:f64,obs.b:f64,obs.c:f64,obs.d:f64\n");
    for s in 0..2 {
        for i in 0..400_000i64 {
            let v = temp(s, i);
            csv.push_str(&format!("s{s},{},{v},{},{},{}\n", T0 + i * minute, v + 1.0, i % 1000, s));
        }
    }
    let file = f.dir.path().join("big.csv");
    std::fs::write(&file, csv).expect("csv");
    f.ok(true, &["write", "--table", "big", "--file", file.to_str().expect("utf8")]);
    // A range without data at its ends: the span is the data's, not the range's.
    let wide = ["--from", "2000-01-01", "--to", "2100-01-01"];
    let json = f.ok(true, &[&["--format", "json", "export", "big", "--all", "--dest", "big"][..], &wide].concat());
    assert!(json.contains("\"partition\":\"month\""), "{json}");
    let local = f.local("big");
    f.ok(false, &[&["export", "big", "--all", "--to-local", local.to_str().expect("utf8")][..], &wide].concat());
    let on_server = files(&f.export_root.join("big"));
    let here = files(&local);
    let months: Vec<String> =
        std::iter::once("month=2023-12".to_owned()).chain((1..=10).map(|m| format!("month=2024-{m:02}"))).collect();
    assert_eq!(dirs(&on_server), months);
    assert_eq!(dirs(&here), months, "the client chose as the server did");
    assert_eq!(rows(&on_server), 800_000);
    assert_eq!(rows(&here), 800_000);
}
