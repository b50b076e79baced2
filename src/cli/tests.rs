//! Tests of the command tree: clap's own consistency checks, an example in every `--help`, every
//! example parses, and arguments become the right wire requests.

use clap::{CommandFactory, Parser};
use isobar_proto::v1 as pb;
use isobar_storage::ColumnType;
use isobar_storage::FamilySpec;

use super::*;

fn parse(line: &str) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(shell_words(line))
}

/// Splits an example command line like a shell would, for the forms the examples use: quotes,
/// a trailing `# comment`, `VAR=value` prefixes and `< file` redirects are handled.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    let mut words: Vec<String> = words.into_iter().skip_while(|w| w.contains('=') && !w.starts_with('-')).collect();
    if let Some(i) = words.iter().position(|w| w == "<") {
        words.truncate(i);
    }
    words
}

/// Every subcommand path with its after-help text.
fn all_commands(cmd: &clap::Command, path: String, out: &mut Vec<(String, String)>) {
    let help = cmd.get_after_help().map(|h| h.to_string()).unwrap_or_default();
    out.push((path.clone(), help));
    for sub in cmd.get_subcommands() {
        all_commands(sub, format!("{path} {}", sub.get_name()), out);
    }
}

#[test]
fn command_tree_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn every_command_has_an_example_and_every_example_parses() {
    let mut commands = Vec::new();
    all_commands(&Cli::command(), "isobar".into(), &mut commands);
    let mut examples = 0;
    for (path, help) in &commands {
        let is_group = ["isobar table", "isobar admin"].contains(&path.as_str());
        if is_group {
            continue;
        }
        assert!(help.contains("Example"), "`{path} --help` has no example");
        // Examples are indented lines starting with `isobar`; a trailing `\` continues a line.
        let mut lines = help.lines().peekable();
        while let Some(line) = lines.next() {
            let trimmed = line.trim_start();
            let words = shell_words(trimmed);
            if words.first().map(String::as_str) != Some("isobar") {
                continue;
            }
            let mut full = trimmed.to_owned();
            while full.trim_end().ends_with('\\') {
                full = full.trim_end().trim_end_matches('\\').to_owned();
                full.push_str(lines.next().unwrap_or_default());
            }
            examples += 1;
            if let Err(e) = parse(&full) {
                panic!("example of `{path}` does not parse: {full}\n{e}");
            }
        }
    }
    assert!(examples >= 25, "found only {examples} examples");
}

#[test]
fn global_flags_work_after_the_subcommand() {
    let cli = parse("isobar table list --format json --addr http://db:1").expect("parses");
    assert_eq!(cli.format, OutputFormat::Json);
    assert_eq!(cli.addr, "http://db:1");
    let cli = parse("isobar table list").expect("parses");
    assert_eq!((cli.addr.as_str(), cli.format), ("http://127.0.0.1:50051", OutputFormat::Table));
}

#[test]
fn addr_without_scheme_means_http() {
    let cli = parse("isobar --addr 127.0.0.1:59553 table list").expect("parses");
    assert_eq!(cli.addr, "http://127.0.0.1:59553");
    let cli = parse("isobar --addr https://db:1 table list").expect("parses");
    assert_eq!(cli.addr, "https://db:1");
    let err = parse("isobar --addr ftp://db:1 table list").expect_err("refused").to_string();
    assert!(err.contains("use http://HOST:PORT"), "{err}");
}

#[test]
fn selector_is_required_and_exclusive() {
    assert!(parse("isobar scan t").is_err(), "no selector");
    assert!(parse("isobar scan t --all --series a").is_err(), "two selectors");
    let Command::Scan(scan) = parse("isobar scan t --key-range a..m").expect("parses").command else {
        panic!("not scan");
    };
    let selector = scan.request().expect("valid").selector.and_then(|s| s.selector);
    assert_eq!(
        selector,
        Some(pb::series_selector::Selector::Range(pb::KeyRange { start: Some("a".into()), end: Some("m".into()) }))
    );
}

#[test]
fn scan_arguments_become_the_request() {
    let cli = parse("isobar scan trucks --prefix truck_ --from 1970-01-01T00:00:01Z --to 5000000000 -c gps.lat,gps.* --desc --limit 10")
        .expect("parses");
    let Command::Scan(scan) = cli.command else { panic!("not scan") };
    let request = scan.request().expect("valid");
    assert_eq!(request.table, "trucks");
    assert_eq!(request.range, Some(pb::TimeRange { from_ns: Some(1_000_000_000), to_ns: Some(5_000_000_000) }));
    assert_eq!(request.columns, ["gps.lat", "gps.*"]);
    assert_eq!((request.order, request.limit), (pb::Order::Desc as i32, 10));
}

#[test]
fn agg_arguments_become_the_request() {
    let cli = parse("isobar agg w --all --from 0 --to 86400000000000 --bucket 1h --fn avg:env.t --fn COUNT:env.t:n --group-by none --fill linear")
        .expect("parses");
    let Command::Agg(agg) = cli.command else { panic!("not agg") };
    let request = agg.request().expect("valid");
    assert_eq!(request.bucket_ns, 3_600_000_000_000);
    assert_eq!(
        request.aggregations,
        [
            pb::Aggregation {
                function: pb::AggregateFunction::Avg.into(),
                column: "env.t".into(),
                alias: String::new()
            },
            pb::Aggregation {
                function: pb::AggregateFunction::Count.into(),
                column: "env.t".into(),
                alias: "n".into()
            },
        ]
    );
    assert_eq!((request.group_by, request.fill), (pb::GroupBy::None as i32, pb::Fill::Linear as i32));
    assert!(parse("isobar agg w --all --fn median:env.t").is_err(), "unknown function");
    assert!(parse("isobar agg w --all --fn avg:temp").is_err(), "column without family");
    assert!(parse("isobar agg w --all").is_err(), "no function");
}

#[test]
fn table_create_builds_the_spec() {
    let cli =
        parse("isobar table create trucks -f gps:lat=f64,on=bool -f diag --dynamic-columns --ttl 1d").expect("parses");
    let Command::Table(table::TableCommand::Create(create)) = cli.command else { panic!("not create") };
    let spec = create.spec();
    assert_eq!(
        spec.families,
        [FamilySpec::new("gps", &[("lat", ColumnType::F64), ("on", ColumnType::Bool)]), FamilySpec::new("diag", &[])]
    );
    assert!(spec.dynamic_columns);
    assert_eq!(spec.ttl_ns, Some(86_400_000_000_000));
    assert_eq!(create.request().table.map(|t| t.families.len()), Some(2));
    assert!(parse("isobar table create t").is_err(), "a family is required");
}

#[test]
fn write_needs_exactly_one_source_and_a_table_for_files() {
    assert!(parse("isobar write --table t").is_err(), "no source");
    assert!(parse("isobar write --file x.csv").is_err(), "file without table");
    assert!(parse("isobar write --table t --file x.csv --generate iot").is_err(), "two sources");
    assert!(parse("isobar write --generate iot --scale 0").is_err(), "scale must be positive");
    assert!(parse("isobar write --generate weather --scale 0.25").is_ok());
}

#[test]
fn export_destination_must_stay_inside_the_export_dir() {
    for dest in ["../etc", "/tmp/x", "a/../../b"] {
        let cli = parse(&format!("isobar export t --all --dest {dest}")).expect("parses");
        let Command::Export(export) = cli.command else { panic!("not export") };
        assert!(matches!(export.request(), Err(CliError::Argument { arg: "--dest", .. })), "{dest}");
    }
    let cli = parse("isobar export t --all --dest may/2024").expect("parses");
    let Command::Export(export) = cli.command else { panic!("not export") };
    assert_eq!(export.request().expect("valid").destination, "may/2024");
}

#[test]
fn export_flags_reach_the_request_and_the_local_query() {
    let export = |line: &str| {
        let Command::Export(export) = parse(line).expect("parses").command else { panic!("not export") };
        export
    };
    let plain = export("isobar export t --all --dest d").request().expect("valid");
    assert_eq!(plain.partition, pb::ExportPartition::Auto as i32, "the CLI asks auto");
    assert_eq!(plain.column_naming, pb::ExportColumnNaming::Dotted as i32);
    assert_eq!((plain.target_file_size_bytes, plain.overwrite), (0, false), "the server's default size");
    let full =
        export("isobar export t --all --dest d --partition month --naming family --target-file-size 64MiB --overwrite")
            .request()
            .expect("valid");
    assert_eq!(full.partition, pb::ExportPartition::Month as i32);
    assert_eq!(full.column_naming, pb::ExportColumnNaming::Family as i32);
    assert_eq!((full.target_file_size_bytes, full.overwrite), (64 << 20, true));

    let local =
        export("isobar export t --prefix s --to-local ./out --naming underscore --partition none --from 5 --to 9");
    let q = local.query().expect("valid");
    assert_eq!(q.range, isobar_storage::TimeRange::new(5, 9));
    assert_eq!(q.selector, isobar_storage::SeriesSelector::Prefix("s".into()));
    assert_eq!(
        (q.naming, q.partition),
        (isobar_query::export::Naming::Underscore, isobar_query::export::Partitioning::None)
    );
    assert_eq!(q.target_file_bytes, isobar_query::export::DEFAULT_TARGET_FILE_BYTES);
    assert!(matches!(local.request(), Err(CliError::Argument { arg: "--dest", .. })), "no server destination");

    for bad in [
        "isobar export t --all",
        "isobar export t --all --dest d --to-local ./out",
        "isobar export t --all --dest d --target-file-size 1KiB",
        "isobar export t --all --dest d --target-file-size lots",
        "isobar export t --all --dest d --partition week",
        "isobar export t --all --dest d --naming camel",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn calendar_buckets_and_the_zone_reach_the_request() {
    let request = |line: &str| {
        let Command::Agg(agg) = parse(line).expect("parses").command else { panic!("not agg") };
        agg.request()
    };
    let monthly =
        request("isobar agg w --all --from 2024-01-01 --to 2025-01-01 --tz Europe/Berlin --bucket 1mo --fn avg:env.t")
            .expect("valid");
    assert_eq!((monthly.bucket_ns, monthly.bucket_months, monthly.time_zone.as_str()), (0, 1, "Europe/Berlin"));
    // The dates are local midnights in Berlin (UTC+1 in winter).
    let hour = 3_600_000_000_000;
    assert_eq!(monthly.range.and_then(|r| r.from_ns), Some(19_723 * 24 * hour - hour));
    let yearly = request("isobar agg w --all --bucket 2y --fn avg:env.t").expect("valid");
    assert_eq!((yearly.bucket_months, yearly.time_zone.as_str()), (24, ""));
    let daily = request("isobar agg w --all --tz America/New_York --bucket 7d --fn avg:env.t").expect("valid");
    assert_eq!((daily.bucket_ns, daily.time_zone.as_str()), (7 * 24 * hour, "America/New_York"));
    // Hour buckets stay aligned to the epoch; the zone is for printing and --from/--to only.
    let hourly = request("isobar agg w --all --tz Asia/Kolkata --bucket 1h --fn avg:env.t").expect("valid");
    assert_eq!((hourly.bucket_ns, hourly.time_zone.as_str()), (hour, ""));
    for bad in ["0mo", "1.5y", "mo", "1w"] {
        let err = parse(&format!("isobar agg w --all --bucket {bad} --fn avg:env.t")).unwrap_err().to_string();
        assert!(err.contains("is not a bucket"), "{bad}: {err}");
    }
    let err = parse("isobar agg w --all --tz Mars/Olympus --fn avg:env.t").unwrap_err().to_string();
    assert!(err.contains("is not a time zone"), "{err}");
    let err = request("isobar agg w --all --from '2024-05-01 12:00' --fn avg:env.t").unwrap_err().to_string();
    assert!(err.contains("has no zone"), "{err}");
}

#[test]
fn bad_times_are_refused_at_parse_time() {
    let err = parse("isobar scan t --all --from yesterday").unwrap_err().to_string();
    assert!(err.contains("is not a time"), "{err}");
    assert!(parse("isobar scan t --all --from now-1h").is_ok());
}

#[test]
fn dry_run_counts_what_a_csv_file_would_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.csv");
    std::fs::write(&path, "series,ts,env.t:f64,env.h:i64\na,1,1.5,\na,2,,7\nb,1,2.5,8\n").expect("write");
    let options = import::ImportOptions::default();
    let summary = write::check_csv(&path, "w", 2, &options).expect("valid");
    assert_eq!(summary, write::CsvSummary { rows: 3, points: 4, series: 2, batches: 2, requests: 2 });
    let missing = write::check_csv(&dir.path().join("nope.csv"), "w", 2, &options).unwrap_err();
    assert!(missing.to_string().contains("nope.csv"), "{missing}");
}

#[test]
fn serve_policy_needs_auth_off_loopback_and_warns_without_tls() {
    use super::serve::{Exposure, exposure};
    let local: std::net::SocketAddr = "127.0.0.1:50051".parse().expect("addr");
    let public: std::net::SocketAddr = "0.0.0.0:50051".parse().expect("addr");
    assert_eq!(exposure(local, false, false, false).ok(), Some(Exposure::Safe));
    let refused = exposure(public, false, true, false).unwrap_err().to_string();
    assert!(refused.contains("authentication is off") && refused.contains("--insecure"), "{refused}");
    assert_eq!(exposure(public, false, false, true).ok(), Some(Exposure::NoAuth));
    assert_eq!(exposure(public, true, false, false).ok(), Some(Exposure::ClearText));
    assert_eq!(exposure(public, true, true, false).ok(), Some(Exposure::Safe));
}

#[test]
fn metrics_beyond_loopback_need_auth_or_an_explicit_allowance() {
    use super::serve::metrics_exposure;
    let local: std::net::SocketAddr = "127.0.0.1:9470".parse().expect("addr");
    let public: std::net::SocketAddr = "0.0.0.0:9470".parse().expect("addr");
    assert!(metrics_exposure(local, false, false).is_ok());
    let refused = metrics_exposure(public, false, false).unwrap_err().to_string();
    assert!(refused.contains("metrics.allow_anonymous") && refused.contains("0.0.0.0:9470"), "{refused}");
    assert!(metrics_exposure(public, true, false).is_ok(), "auth on: scrapes need a token");
    assert!(metrics_exposure(public, false, true).is_ok(), "explicitly allowed");
}

#[test]
fn hash_token_entry_parses_as_config() {
    let entry = super::auth::config_entry("agent", &crate::auth::hash_secret("s3cret").to_string());
    let config = crate::config::Config::from_toml(&format!("[auth]\nenabled = true\n{entry}"), "x.toml".as_ref())
        .expect("the printed entry is valid config");
    config.validate().expect("valid");
    let auth = crate::auth::Authenticator::from_config(&config.auth);
    assert_eq!(auth.authenticate("s3cret").map(|p| p.name), Ok("agent".to_owned()));
}

#[test]
fn snapshot_restore_and_health_commands_parse() {
    let cli = parse("isobar snapshot create --name nightly").expect("parses");
    assert_eq!(cli.command, Command::Snapshot(snapshot::SnapshotCommand::Create { name: Some("nightly".into()) }));
    let cli = parse("isobar snapshot create").expect("parses");
    assert_eq!(cli.command, Command::Snapshot(snapshot::SnapshotCommand::Create { name: None }));
    assert!(parse("isobar snapshot delete").is_err(), "delete needs a name");
    let cli = parse("isobar restore /snaps/a --data-dir /new").expect("parses");
    let Command::Restore(args) = cli.command else { panic!("restore") };
    assert_eq!((args.snapshot.to_str(), args.data_dir.to_str()), (Some("/snaps/a"), Some("/new")));
    assert!(parse("isobar restore /snaps/a").is_err(), "--data-dir is required");
    let cli = parse("isobar health --timeout 500ms --service isobar.v1.Query").expect("parses");
    let Command::Health(args) = cli.command else { panic!("health") };
    assert_eq!(args.timeout, std::time::Duration::from_millis(500));
    assert_eq!(args.service, "isobar.v1.Query");
    assert!(parse("isobar health --timeout soon").is_err());
}
