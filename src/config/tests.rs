//! Tests of defaults, file parsing, environment precedence and error messages.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use isobar_storage::{Options, SyncPolicy, WalRecovery};

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml(text, Path::new("isobar.toml"))
}

#[test]
fn defaults_are_the_documented_ones() {
    let config = Config::default();
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:50051");
    assert_eq!(config.server.data_dir, Path::new("./isobar-data"));
    assert_eq!(config.server.export_root(), Path::new("./isobar-data/export"));
    assert_eq!(config.server.max_message_bytes, ByteSize(64 << 20));
    assert_eq!(config.server.max_rows_per_request, 1_000_000);
    assert_eq!(config.storage.to_options(), Options::default());
    assert_eq!(config.log.level, "info");
    assert_eq!(config.log.format, LogFormat::Human);
    assert!(config.validate().is_ok());
}

#[test]
fn the_module_doc_example_parses_to_the_defaults() {
    let doc = include_str!("../config.rs");
    let example: String = doc
        .lines()
        .skip_while(|l| !l.starts_with("//! ```toml"))
        .skip(1)
        .take_while(|l| !l.starts_with("//! ```"))
        .map(|l| format!("{}\n", l.trim_start_matches("//!").trim_start()))
        .collect();
    assert!(example.contains("[storage]"), "example found");
    assert_eq!(parse(&example).expect("example parses"), Config::default());
}

#[test]
fn empty_file_gives_defaults() {
    assert_eq!(parse("").expect("parses"), Config::default());
}

#[test]
fn file_values_are_read() {
    let config = parse(
        r#"
        [server]
        listen = "0.0.0.0:6000"
        data_dir = "/var/lib/isobar"
        export_dir = "/srv/exports"
        max_message_bytes = 1048576
        [storage]
        sync = { interval_ms = 250 }
        memtable_size = "8MiB"
        write_stall_timeout = "1500ms"
        wal_recovery = "skip_corrupt"
        zstd_level = 9
        [log]
        format = "json"
        level = "debug"
        "#,
    )
    .expect("parses");
    assert_eq!(config.server.listen.port(), 6000);
    assert_eq!(config.server.export_root(), Path::new("/srv/exports"));
    assert_eq!(config.server.max_message_bytes, ByteSize(1 << 20));
    let options = config.storage.to_options();
    assert_eq!(options.sync, SyncPolicy::Interval(Duration::from_millis(250)));
    assert_eq!(options.memtable_size, 8 << 20);
    assert_eq!(options.write_stall_timeout, Duration::from_millis(1500));
    assert_eq!(options.wal_recovery, WalRecovery::SkipCorrupt);
    assert_eq!(options.zstd_level, 9);
    assert_eq!(config.log.format, LogFormat::Json);
    assert_eq!(config.log.level, "debug");
}

#[test]
fn sync_accepts_every_spelling() {
    for (text, want) in [
        (r#"sync = "always""#, SyncPolicy::Always),
        (r#"sync = "none""#, SyncPolicy::None),
        (r#"sync = "interval:2s""#, SyncPolicy::Interval(Duration::from_secs(2))),
        ("sync = { interval_ms = 100 }", SyncPolicy::Interval(Duration::from_millis(100))),
    ] {
        let config = parse(&format!("[storage]\n{text}")).expect(text);
        assert_eq!(config.storage.sync.0, want, "{text}");
    }
}

#[test]
fn unknown_key_in_the_file_is_an_error_naming_it() {
    let err = parse("[server]\nlisten = \"127.0.0.1:1\"\nlistne = \"x\"\n").unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ConfigError::Parse { .. }), "{message}");
    assert!(message.contains("listne"), "{message}");
    assert!(message.contains("line 3"), "{message}");
    let err = parse("[sever]\n").unwrap_err().to_string();
    assert!(err.contains("sever"), "{err}");
}

#[test]
fn bad_values_in_the_file_say_what_was_expected() {
    let cases = [
        ("[storage]\nsync = \"sometimes\"", "always, none or interval"),
        ("[storage]\nsync = { interval_ms = 0 }", "interval_ms must be at least 1"),
        ("[storage]\nmemtable_size = \"12 parsecs\"", "byte size"),
        ("[storage]\nwrite_stall_timeout = 5", "duration"),
        ("[server]\nlisten = \"localhost\"", "listen"),
        ("[log]\nformat = \"xml\"", "human or json"),
    ];
    for (text, want) in cases {
        let message = parse(text).unwrap_err().to_string();
        assert!(message.contains(want), "{text}: {message}");
    }
}

#[test]
fn environment_overrides_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("isobar.toml");
    std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:7000\"\ndata_dir = \"/from/file\"\n").expect("write");
    let vars = env(&[
        ("ISOBAR_SERVER_LISTEN", "0.0.0.0:9000"),
        ("ISOBAR_STORAGE_SYNC", "interval:100ms"),
        ("ISOBAR_STORAGE_MEMTABLE_BUDGET", "1GiB"),
        ("ISOBAR_LOG_FORMAT", "json"),
        ("PATH", "/usr/bin"),
    ]);
    let (config, warnings) = Config::load_with(Some(&file), vars).expect("loads");
    assert_eq!(config.server.listen.to_string(), "0.0.0.0:9000", "env beats file");
    assert_eq!(config.server.data_dir, Path::new("/from/file"), "file beats default");
    assert_eq!(config.storage.sync.0, SyncPolicy::Interval(Duration::from_millis(100)));
    assert_eq!(config.storage.memtable_budget, ByteSize(1 << 30));
    assert_eq!(config.log.format, LogFormat::Json);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn unknown_isobar_variables_are_refused_with_the_closest_key() {
    let err = Config::load_with(None, env(&[("ISOBAR_SERVER_LISTNE", "x"), ("ISOBAR_CONFIG", "/etc/isobar.toml")]))
        .expect_err("a misspelled variable is refused");
    let message = err.to_string();
    assert!(matches!(&err, ConfigError::UnknownEnv { var, .. } if var == "ISOBAR_SERVER_LISTNE"), "{message}");
    assert!(message.contains("did you mean ISOBAR_SERVER_LISTEN?"), "{message}");
    let err = Config::load_with(None, env(&[("ISOBAR_NOPE", "1")])).expect_err("an unknown variable is refused");
    assert!(matches!(&err, ConfigError::UnknownEnv { suggestion: None, .. }), "{err}");
    // The client's and the test harness's variables are no config keys but are allowed.
    let allowed = [("ISOBAR_ADDR", "http://h:1"), ("ISOBAR_TOKEN", "s"), ("ISOBAR_TEST_PYTHON", "/p")];
    assert!(Config::load_with(None, env(&allowed)).is_ok());
}

/// Before the refusal, unknown variables were warnings; `ISOBAR_UNKNOWN_ENV=warn` keeps that.
#[test]
fn unknown_isobar_variables_are_warnings_behind_the_switch() {
    let vars = env(&[
        ("ISOBAR_SERVER_LISTNE", "x"),
        ("ISOBAR_CONFIG", "/etc/isobar.toml"),
        ("ISOBAR_NOPE", "1"),
        ("ISOBAR_UNKNOWN_ENV", "warn"),
    ]);
    let (config, warnings) = Config::load_with(None, vars).expect("loads");
    assert_eq!(config, Config::default());
    let names: Vec<&str> = warnings.iter().map(|w| w.var.as_str()).collect();
    assert_eq!(names, ["ISOBAR_NOPE", "ISOBAR_SERVER_LISTNE"]);
    assert!(warnings[0].to_string().contains("ISOBAR_NOPE"));
}

#[test]
fn bad_environment_values_name_the_variable_and_the_expectation() {
    let cases = [
        ("ISOBAR_STORAGE_SYNC", "sometimes", "always, none or interval"),
        ("ISOBAR_STORAGE_SYNC", "interval:0ms", "always, none or interval"),
        ("ISOBAR_SERVER_MAX_ROWS_PER_REQUEST", "-5", "non-negative whole number"),
        ("ISOBAR_STORAGE_ZSTD_LEVEL", "high", "whole number"),
        ("ISOBAR_SERVER_LISTEN", "nowhere", "socket address"),
        ("ISOBAR_STORAGE_WAL_RECOVERY", "lenient", "strict or skip_corrupt"),
        ("ISOBAR_STORAGE_BLOCK_CACHE_SIZE", "99999999999999999999", "byte size"),
    ];
    for (var, value, want) in cases {
        let err = Config::load_with(None, env(&[(var, value)])).unwrap_err();
        let message = err.to_string();
        assert!(matches!(&err, ConfigError::Env { var: v, value: x, .. } if v == var && x == value), "{message}");
        assert!(message.contains(want), "{var}={value}: {message}");
    }
}

#[test]
fn out_of_range_values_are_refused_with_the_key() {
    let cases = [
        ("ISOBAR_STORAGE_ZSTD_LEVEL", "30", "storage.zstd_level"),
        ("ISOBAR_STORAGE_MEMTABLE_SIZE", "1GiB", "storage.memtable_size"),
        ("ISOBAR_STORAGE_ROWS_PER_PAGE", "0", "storage.rows_per_page"),
        ("ISOBAR_STORAGE_MIN_TS", "9223372036854775807", "storage.min_ts"),
        ("ISOBAR_SERVER_MAX_MESSAGE_BYTES", "10", "server.max_message_bytes"),
    ];
    for (var, value, key) in cases {
        let err = Config::load_with(None, env(&[(var, value)])).unwrap_err();
        // The error names the key and where its value came from (issue 24: every error names
        // where the value came from).
        let ConfigError::Located { origin, source } = &err else { panic!("{var}: not located: {err}") };
        assert_eq!(*origin, super::origin::Origin::Env(var.to_owned()), "{err}");
        assert!(matches!(source.as_ref(), ConfigError::Invalid { key: k, .. } if *k == key), "{var}: {err}");
        assert!(err.to_string().starts_with(&format!("environment variable {var}: config key {key} = ")), "{err}");
    }
}

#[test]
fn an_out_of_range_value_in_the_file_names_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("isobar.toml");
    std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:1\"\n\n[storage]\nzstd_level = 30\n").expect("written");
    let err = Config::load_with(Some(&path), env(&[])).unwrap_err();
    assert_eq!(err.to_string(), format!("{}:5: config key storage.zstd_level = 30: must be 1 to 22", path.display()));
}

#[test]
fn printed_config_parses_back_to_itself() {
    let mut config = Config::default();
    config.storage.sync = SyncSetting(SyncPolicy::Interval(Duration::from_millis(1500)));
    config.server.export_dir = Some("/x".into());
    config.storage.max_string_len = ByteSize(1000);
    let text = config.to_toml();
    assert!(text.contains("sync = \"interval:1500ms\""), "{text}");
    assert_eq!(parse(&text).expect("parses"), config);
}

#[test]
fn values_print_in_their_largest_exact_unit() {
    assert_eq!(ByteSize(64 << 20).to_string(), "64MiB");
    assert_eq!(ByteSize(1000).to_string(), "1000");
    assert_eq!("2 GiB".parse::<ByteSize>(), Ok(ByteSize(2 << 30)));
    assert_eq!("5MB".parse::<ByteSize>(), Ok(ByteSize(5_000_000)));
    assert_eq!(DurationValue(Duration::from_secs(90)).to_string(), "90s");
    assert_eq!(DurationValue(Duration::from_secs(3600)).to_string(), "1h");
    assert_eq!("30d".parse::<DurationValue>(), Ok(DurationValue(Duration::from_secs(30 * 86_400))));
    assert!("1.5s".parse::<DurationValue>().is_err());
}

/// Keys per section of a TOML text, counting commented keys and headers (`# key = ...`,
/// `# [[auth.tokens]]`) as named: the example config and `--print-config` show keys without a
/// value that way. Array-of-tables entries count as the section `auth.tokens`.
fn keys_per_section(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let is_key = |k: &str| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        let line = line.strip_prefix("# ").unwrap_or(line);
        let header = line.split('#').next().unwrap_or_default().trim();
        if let Some(name) = header.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            section = name.trim_matches(|c| c == '[' || c == ']').to_owned();
            out.entry(section.clone()).or_default();
        } else if let Some((key, _)) = line.split_once(" = ")
            && is_key(key)
        {
            out.entry(section.clone()).or_default().insert(key.to_owned());
        }
    }
    // A table-valued key (`grants = { ... }` written as `[auth.tokens.grants]`) is a key of its
    // parent section, however it is spelled.
    let nested: Vec<String> = out
        .iter()
        .filter(|(name, keys)| keys.is_empty() && name.rsplit_once('.').is_some_and(|(p, _)| out.contains_key(p)))
        .map(|(name, _)| name.clone())
        .collect();
    for name in nested {
        out.remove(&name);
        if let Some((parent, key)) = name.rsplit_once('.') {
            out.entry(parent.to_owned()).or_default().insert(key.to_owned());
        }
    }
    out
}

/// Every key the config struct has, per section: a configuration with every optional key set
/// (and one token), serialized by serde alone.
fn struct_keys() -> BTreeMap<String, BTreeSet<String>> {
    let mut full = Config::default();
    full.server.export_dir = Some("/e".into());
    full.server.snapshot_dir = Some("/s".into());
    full.tls.cert = Some("/c.pem".into());
    full.tls.key = Some("/k.pem".into());
    full.tls.client_ca = Some("/ca.pem".into());
    full.auth.tokens =
        parse(&format!("[[auth.tokens]]\nname = \"a\"\nsha256 = \"{HASH}\"\ngrants = {{ \"*\" = [\"read\"] }}\n"))
            .expect("token parses")
            .auth
            .tokens;
    let keys = keys_per_section(&toml::to_string(&full).expect("serializes"));
    assert!(keys.contains_key("auth.tokens") && keys["tls"].contains("client_ca"), "{keys:?}");
    keys
}

#[test]
fn the_deploy_example_config_documents_every_key_with_its_default() {
    let example = include_str!("../../deploy/isobar.toml");
    assert_eq!(parse(example).expect("deploy/isobar.toml parses"), Config::default());
    // Per section: a key documented under the wrong section, or missing from one, fails.
    assert_eq!(keys_per_section(example), struct_keys(), "deploy/isobar.toml vs the config struct");
}

#[test]
fn print_config_names_every_key_of_every_section() {
    for config in
        [Config::default(), parse("[server]\nexport_dir = \"/x\"\n[tls]\nclient_ca = \"/ca.pem\"\n").expect("parses")]
    {
        let printed = config.to_toml();
        assert_eq!(keys_per_section(&printed), struct_keys(), "{printed}");
        assert_eq!(parse(&printed).expect("printed config parses"), config, "{printed}");
    }
    let printed = Config::default().to_toml();
    assert!(printed.contains("# export_dir = \"./isobar-data/export\""), "the directory in force: {printed}");
    assert!(printed.contains("# snapshot_dir = \"./isobar-data/snapshots\""), "{printed}");
    assert!(printed.contains("# cert = unset"), "{printed}");
}

#[test]
fn every_key_has_its_environment_variable() {
    let default = toml::Value::try_from(Config::default()).expect("serializes");
    let mut checked = 0;
    for (section, keys) in struct_keys() {
        if section == "auth.tokens" {
            continue; // tokens are defined in the file only (documented in the module doc)
        }
        for key in keys {
            // Nested sections (`storage.compaction`) are tables inside tables.
            let table = section.split('.').try_fold(&default, |t, part| t.get(part));
            let value = match table.and_then(|s| s.get(&key)) {
                Some(toml::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => "/tmp/x".to_owned(), // an unset path
            };
            let var = format!("ISOBAR_{}_{}", section.replace('.', "_").to_ascii_uppercase(), key.to_ascii_uppercase());
            let mut config = Config::default();
            let warnings = config.apply_env(env(&[(&var, &value)])).unwrap_or_else(|e| panic!("{var}={value}: {e}"));
            assert!(warnings.is_empty(), "{var} is no override: {warnings:?}");
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
}

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[test]
fn auth_tokens_and_tls_are_read() {
    let config = Config::load_with(None, env(&[])).expect("defaults").0;
    assert!(!config.auth.enabled && !config.tls.enabled());
    let config = parse(&format!(
        r#"
        [auth]
        enabled = true
        [[auth.tokens]]
        name = "dashboard"
        sha256 = "{HASH}"
        grants = {{ "*" = ["read"], weather = ["read", "write"] }}
        [tls]
        cert = "/etc/isobar/server.pem"
        key = "/etc/isobar/server.key"
        "#
    ))
    .expect("parses");
    assert!(config.validate().is_ok());
    let token = &config.auth.tokens[0];
    assert_eq!(token.sha256, crate::auth::hash_secret("test"));
    // `write` keeps its meaning from before the access catalog: add rows and range-delete.
    use crate::auth::Permission;
    assert_eq!(token.grants["weather"], vec![Permission::View, Permission::Add, Permission::Delete]);
    assert!(config.tls.enabled());
    assert_eq!(parse(&config.to_toml()).expect("printed config parses"), config);
}

#[test]
fn a_bad_token_hash_says_what_is_expected() {
    let err = parse("[[auth.tokens]]\nname = \"a\"\nsha256 = \"12ab\"\n").unwrap_err().to_string();
    assert!(err.contains("expected 64 hex digits") && err.contains("isobar auth hash-token"), "{err}");
    assert!(err.contains("sha256"), "names the key: {err}");
    let err = parse(&format!("[[auth.tokens]]\nname = \"a\"\nsha256 = \"{}xy\"\n", &HASH[..62])).unwrap_err();
    assert!(err.to_string().contains("not a hex digit"), "{err}");
}

#[test]
fn an_unknown_permission_lists_the_valid_ones() {
    let err = parse(&format!("[[auth.tokens]]\nname = \"a\"\nsha256 = \"{HASH}\"\ngrants = {{ t = [\"reed\"] }}\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("reed") && err.contains("read") && err.contains("admin"), "{err}");
}

#[test]
fn inconsistent_auth_and_tls_settings_are_refused_with_the_key() {
    let token = |name: &str, grant: &str| {
        format!("[[auth.tokens]]\nname = \"{name}\"\nsha256 = \"{HASH}\"\ngrants = {{ {grant} = [\"read\"] }}\n")
    };
    let cases = [
        (format!("{}{}", token("a", "t"), token("a", "u").replace(HASH, &HASH.replace('9', "8"))), "auth.tokens.name"),
        (format!("{}{}", token("a", "t"), token("b", "t")), "auth.tokens.sha256"),
        (token("a", "\"../x\""), "auth.tokens.grants"),
        ("[tls]\ncert = \"c.pem\"\n".to_owned(), "tls.key"),
        ("[tls]\nclient_ca = \"ca.pem\"\n".to_owned(), "tls.client_ca"),
    ];
    for (text, key) in cases {
        let err = parse(&text).expect("parses").validate().unwrap_err();
        assert!(matches!(&err, ConfigError::Invalid { key: k, .. } if *k == key), "{text}: {err}");
    }
}

#[test]
fn auth_and_tls_have_environment_overrides() {
    let vars = env(&[("ISOBAR_TLS_CERT", "/c.pem"), ("ISOBAR_TLS_KEY", "/k.pem"), ("ISOBAR_TLS_CLIENT_CA", "/ca.pem")]);
    let config = Config::load_with(None, vars).expect("loads").0;
    assert_eq!(config.tls.client_ca.as_deref(), Some(Path::new("/ca.pem")));
    // Enabled without tokens is valid since the access catalog: users may live in the database,
    // and a database without any gets a first admin token (auth::bootstrap).
    let (config, _) = Config::load_with(None, env(&[("ISOBAR_AUTH_ENABLED", "true")])).expect("loads");
    assert!(config.auth.enabled && config.auth.tokens.is_empty());
    let (_, warnings) = Config::load_with(None, env(&[("ISOBAR_TOKEN", "a-client-secret")])).expect("loads");
    assert!(warnings.is_empty(), "the client's token variable is known, not a typo: {warnings:?}");
    let err = Config::load_with(None, env(&[("ISOBAR_AUTH_ENABLED", "yes")])).unwrap_err();
    assert!(err.to_string().contains("true or false"), "{err}");
}

#[test]
fn snapshot_dir_defaults_under_the_data_dir_and_is_overridable() {
    assert_eq!(Config::default().server.snapshot_root(), Path::new("./isobar-data/snapshots"));
    let config = parse("[server]\nsnapshot_dir = \"/backups/isobar\"\n").expect("parses");
    assert_eq!(config.server.snapshot_root(), Path::new("/backups/isobar"));
    let (config, warnings) =
        Config::load_with(None, env(&[("ISOBAR_SERVER_SNAPSHOT_DIR", "/snaps")])).expect("env applies");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.server.snapshot_root(), Path::new("/snaps"));
}

#[test]
fn metrics_section_is_read_from_the_file_and_the_environment() {
    let defaults = Config::default().metrics;
    assert!(defaults.enabled);
    assert_eq!(defaults.listen.to_string(), "127.0.0.1:9470");
    let config = parse("[metrics]\nenabled = false\nlisten = \"0.0.0.0:9999\"\n").expect("parses");
    assert!(!config.metrics.enabled);
    assert_eq!(config.metrics.listen.port(), 9999);
    let vars = env(&[("ISOBAR_METRICS_LISTEN", "127.0.0.1:0"), ("ISOBAR_METRICS_ENABLED", "false")]);
    let (config, warnings) = Config::load_with(None, vars).expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.metrics.listen.to_string(), "127.0.0.1:0");
    assert!(!config.metrics.enabled);
    let err = Config::load_with(None, env(&[("ISOBAR_METRICS_ENABLED", "yes")])).unwrap_err().to_string();
    assert!(err.contains("ISOBAR_METRICS_ENABLED") && err.contains("true or false"), "{err}");
}

#[test]
fn line_protocol_keys_come_from_the_file_and_the_environment() {
    let config =
        parse("[line_protocol]\nenabled = true\nfamily = \"lp\"\nmax_body_bytes = \"1MiB\"\n").expect("parses");
    assert!(config.line_protocol.enabled);
    assert_eq!(config.line_protocol.family, "lp");
    assert_eq!(config.line_protocol.max_body_bytes, ByteSize(1 << 20));
    let vars = env(&[
        ("ISOBAR_LINE_PROTOCOL_ENABLED", "true"),
        ("ISOBAR_LINE_PROTOCOL_LISTEN", "0.0.0.0:9999"),
        ("ISOBAR_LINE_PROTOCOL_CREATE_TABLES", "false"),
    ]);
    let (config, warnings) = Config::load_with(None, vars).expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(config.line_protocol.enabled && !config.line_protocol.create_tables);
    assert_eq!(config.line_protocol.listen.port(), 9999);
    let bad = Config::load_with(None, env(&[("ISOBAR_LINE_PROTOCOL_FAMILY", "not-a-name")]));
    assert_eq!(bad.as_ref().err().and_then(ConfigError::invalid_key), Some("line_protocol.family"), "{bad:?}");
}

#[test]
fn otlp_keys_come_from_the_file_and_the_environment() {
    assert!(!Config::default().otlp.enabled, "OTLP is off by default");
    assert_eq!(Config::default().otlp.family, "metrics");
    let config = parse("[otlp]\nenabled = true\nfamily = \"otel\"\ncreate_tables = false\n").expect("parses");
    assert!(config.otlp.enabled && !config.otlp.create_tables);
    assert_eq!(config.otlp.family, "otel");
    let vars =
        env(&[("ISOBAR_OTLP_ENABLED", "true"), ("ISOBAR_OTLP_FAMILY", "m"), ("ISOBAR_OTLP_CREATE_TABLES", "false")]);
    let (config, warnings) = Config::load_with(None, vars).expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(config.otlp.enabled && !config.otlp.create_tables);
    assert_eq!(config.otlp.family, "m");
    let bad = Config::load_with(None, env(&[("ISOBAR_OTLP_FAMILY", "not-a-name")]));
    assert_eq!(bad.as_ref().err().and_then(ConfigError::invalid_key), Some("otlp.family"), "{bad:?}");
}

#[test]
fn column_limits_come_from_the_file_and_the_environment() {
    let config = parse("[storage]\nmax_columns_per_table = 100\nmax_new_columns_per_request = 7\n").expect("parses");
    let limits = config.storage.to_options().limits;
    assert_eq!((limits.max_columns_per_table, limits.max_new_columns_per_request), (100, 7));
    let vars =
        env(&[("ISOBAR_STORAGE_MAX_COLUMNS_PER_TABLE", "200"), ("ISOBAR_STORAGE_MAX_NEW_COLUMNS_PER_REQUEST", "20")]);
    let (config, warnings) = Config::load_with(None, vars).expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    let limits = config.storage.to_options().limits;
    assert_eq!((limits.max_columns_per_table, limits.max_new_columns_per_request), (200, 20));
    let defaults = Config::default().storage.to_options().limits;
    assert_eq!((defaults.max_columns_per_table, defaults.max_new_columns_per_request), (4096, 1024));
}

#[test]
fn compaction_window_and_closed_after_come_from_the_file_and_the_environment() {
    let defaults = Config::default().storage.to_options().compaction;
    assert_eq!((defaults.window, defaults.closed_after), (Duration::from_secs(86_400), Duration::from_secs(3600)));
    let config = parse("[storage.compaction]\nwindow = \"6h\"\nclosed_after = \"30m\"\n").expect("parses");
    let compaction = config.storage.to_options().compaction;
    assert_eq!(
        (compaction.window, compaction.closed_after),
        (Duration::from_secs(6 * 3600), Duration::from_secs(1800))
    );
    assert!(config.to_toml().contains("[storage.compaction]\nwindow = \"6h\"\nclosed_after = \"30m\"\n"));
    let vars = env(&[("ISOBAR_STORAGE_COMPACTION_WINDOW", "2h"), ("ISOBAR_STORAGE_COMPACTION_CLOSED_AFTER", "0s")]);
    let (config, warnings) = Config::load_with(None, vars).expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    let compaction = config.storage.to_options().compaction;
    assert_eq!((compaction.window, compaction.closed_after), (Duration::from_secs(7200), Duration::ZERO));
    let bad = Config::load_with(None, env(&[("ISOBAR_STORAGE_COMPACTION_WINDOW", "0s")]));
    assert_eq!(bad.as_ref().err().and_then(ConfigError::invalid_key), Some("storage.compaction.window"), "{bad:?}");
    let bad = Config::load_with(None, env(&[("ISOBAR_STORAGE_COMPACTION_CLOSED_AFTER", "soon")])).unwrap_err();
    assert!(bad.to_string().contains("a duration such as"), "{bad}");
    assert!(parse("[storage.compaction]\nwindows = \"1d\"\n").is_err(), "a misspelt key is an error");
}

#[test]
fn request_limits_come_from_the_file_and_the_environment() {
    let config = parse("[storage]\nmax_series_per_request = 10\nmax_cells_per_request = 70\n").expect("parses");
    let limits = config.storage.to_options().limits;
    assert_eq!((limits.max_series_per_request, limits.max_cells_per_request), (10, 70));
    let vars = env(&[("ISOBAR_STORAGE_MAX_SERIES_PER_REQUEST", "20"), ("ISOBAR_STORAGE_MAX_CELLS_PER_REQUEST", "80")]);
    let (config, warnings) = Config::load_with(None, vars).expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    let limits = config.storage.to_options().limits;
    assert_eq!((limits.max_series_per_request, limits.max_cells_per_request), (20, 80));
    let defaults = Config::default().storage.to_options().limits;
    assert_eq!((defaults.max_series_per_request, defaults.max_cells_per_request), (100_000, 10_000_000));
    let zero = parse("[storage]\nmax_series_per_request = 0\n").expect("parses").validate();
    assert_eq!(
        zero.as_ref().err().and_then(ConfigError::invalid_key),
        Some("storage.max_series_per_request"),
        "{zero:?}"
    );
}

#[test]
fn the_per_identity_producer_cap_comes_from_the_file_and_the_environment() {
    let config = parse("[storage]\nmax_producers_per_owner = 7\n").expect("parses");
    assert_eq!(config.storage.to_options().max_producers_per_owner, 7);
    let vars = env(&[("ISOBAR_STORAGE_MAX_PRODUCERS_PER_OWNER", "9")]);
    let (config, warnings) = Config::load_with(None, vars).expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.storage.to_options().max_producers_per_owner, 9);
    assert_eq!(Config::default().storage.to_options().max_producers_per_owner, 1000);
    let zero = parse("[storage]\nmax_producers_per_owner = 0\n").expect("parses").validate();
    assert_eq!(
        zero.as_ref().err().and_then(ConfigError::invalid_key),
        Some("storage.max_producers_per_owner"),
        "{zero:?}"
    );
}

#[test]
fn connection_limits_come_from_the_file_and_the_environment() {
    let defaults = Config::default().connections;
    assert_eq!((defaults.max_per_listener, defaults.max_per_peer), (4096, 256));
    assert_eq!(defaults.header_read_timeout.0, Duration::from_secs(10));
    assert_eq!(defaults.body_read_timeout.0, Duration::from_secs(60));
    assert_eq!(defaults.idle_timeout.0, Duration::from_secs(300));
    let config = parse("[connections]\nmax_per_peer = 3\nidle_timeout = \"2s\"\n").expect("parses");
    assert_eq!(config.connections.max_per_peer, 3);
    assert_eq!(config.connections.idle_timeout.0, Duration::from_secs(2));
    let vars = env(&[
        ("ISOBAR_CONNECTIONS_MAX_PER_LISTENER", "10"),
        ("ISOBAR_CONNECTIONS_HEADER_READ_TIMEOUT", "3s"),
        ("ISOBAR_CONNECTIONS_GRPC_MAX_CONCURRENT_STREAMS", "8"),
    ]);
    let (config, warnings) = Config::load_with(None, vars).expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.connections.max_per_listener, 10);
    assert_eq!(config.connections.header_read_timeout.0, Duration::from_secs(3));
    assert_eq!(config.connections.grpc_max_concurrent_streams, 8);
    let zero = Config::load_with(None, env(&[("ISOBAR_CONNECTIONS_IDLE_TIMEOUT", "0s")])).unwrap_err();
    assert_eq!(zero.invalid_key(), Some("connections.idle_timeout"), "{zero}");
    let bad = Config::load_with(None, env(&[("ISOBAR_CONNECTIONS_MAX_PER_PEER", "many")])).unwrap_err();
    assert!(bad.to_string().contains("ISOBAR_CONNECTIONS_MAX_PER_PEER"), "{bad}");
}

#[test]
fn the_sql_section_sets_the_sql_engine_bounds_from_file_and_environment() {
    assert_eq!(Config::default().sql_options(), isobar_sql::SqlOptions::default());
    let config =
        parse("[sql]\nmemory_limit = \"64MiB\"\ntimeout = \"30s\"\nmax_concurrent_queries = 4\n").expect("parses");
    let options = config.sql_options();
    assert_eq!(options.memory_limit_bytes, 64 << 20);
    assert_eq!(options.timeout, Duration::from_secs(30));
    assert_eq!(options.max_concurrent_queries, 4);
    let vars = env(&[
        ("ISOBAR_SQL_MEMORY_LIMIT", "1GiB"),
        ("ISOBAR_SQL_TIMEOUT", "5s"),
        ("ISOBAR_SQL_MAX_CONCURRENT_QUERIES", "2"),
    ]);
    let (config, warnings) = Config::load_with(None, vars).expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.sql_options().memory_limit_bytes, 1 << 30);
    assert_eq!(config.sql_options().timeout, Duration::from_secs(5));
    assert_eq!(config.sql_options().max_concurrent_queries, 2);
    for bad in ["[sql]\nmax_concurrent_queries = 0\n", "[sql]\ntimeout = \"0s\"\n", "[sql]\nmemory_limit = \"0\"\n"] {
        let message = parse(bad).and_then(|c| c.validate().map(|_| c)).unwrap_err().to_string();
        assert!(message.contains("sql."), "{bad}: {message}");
    }
}
