//! What the `isobar export` end-to-end tests share: a real `isobar serve` with authentication
//! (an `admin` and a `view` token), a table `weather` (families `obs`: temp, rh; `meta`: note)
//! holding two stations hourly from 2023-12-30 to 2025-01-04 imported with the CLI, and helpers
//! to run the CLI and read back the Parquet files written.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use isobar_testkit::server::{ServerCommand, ServerProcess};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The `isobar` binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_isobar");

/// 2023-12-30T00:00:00Z.
pub const T0: i64 = 1_703_894_400_000_000_000;
/// One hour.
pub const HOUR: i64 = 3_600_000_000_000;
/// Hours per station: 372 days, to 2025-01-04T23:00Z.
pub const HOURS: i64 = 24 * 372;
/// Rows of the table (two stations).
pub const ROWS: u64 = 2 * HOURS as u64;

/// A server with `weather` loaded, and where its files and tokens are.
pub struct Fixture {
    /// Holds everything (removed on drop).
    pub dir: tempfile::TempDir,
    /// The server.
    pub server: ServerProcess,
    /// `<data_dir>/export`.
    pub export_root: PathBuf,
    /// A token file with `admin` on every table.
    pub admin: PathBuf,
    /// A token file with `view` on every table.
    pub viewer: PathBuf,
    /// Sum of `obs.temp` over the table.
    pub sum_temp: f64,
    /// Rows with a `meta.note`.
    pub notes: u64,
}

/// `isobar auth hash-token --generate --name NAME` with `permission`: the secret and the
/// config entry.
fn token(name: &str, permission: &str) -> (String, String) {
    let out = Command::new(BIN).args(["auth", "hash-token", "--generate", "--name", name]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf8");
    let secret = text.lines().find(|l| l.starts_with("isobar_")).expect("secret printed").to_owned();
    let entry: String = text
        .lines()
        .skip_while(|l| !l.starts_with("[[auth.tokens]]"))
        .map(|l| {
            if l.starts_with("grants") {
                format!("grants = {{ \"*\" = [\"{permission}\"] }}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    (secret, entry)
}

/// A temperature that does not compress away (a hash of the row).
pub fn temp(station: i64, hour: i64) -> f64 {
    let mut x =
        (station as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (hour as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    -20.0 + (x >> 11) as f64 / (1u64 << 53) as f64 * 60.0
}

impl Fixture {
    /// Starts the server and loads the table.
    pub fn start() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let (admin_secret, admin_entry) = token("ops", "admin");
        let (viewer_secret, viewer_entry) = token("analyst", "view");
        let config = dir.path().join("isobar.toml");
        std::fs::write(&config, format!("[auth]\nenabled = true\n\n{admin_entry}\n{viewer_entry}")).expect("config");
        let admin = dir.path().join("admin.token");
        let viewer = dir.path().join("viewer.token");
        std::fs::write(&admin, admin_secret).expect("token");
        std::fs::write(&viewer, viewer_secret).expect("token");
        let data = dir.path().join("data");
        let server = ServerCommand::new(BIN, &data)
            .arg("--config")
            .arg(&config)
            .env("ISOBAR_STORAGE_SYNC", "none")
            .start()
            .expect("serve starts");
        let mut fixture =
            Fixture { export_root: data.join("export"), dir, server, admin, viewer, sum_temp: 0.0, notes: 0 };
        fixture.ok(
            true,
            &["table", "create", "weather", "--family", "obs:temp=f64,rh=f64", "--family", "meta:note=string"],
        );
        let mut csv = String::from("series,ts,obs.temp:f64,obs.rh:f64,meta.note:string\n");
        for station in 0..2 {
            for hour in 0..HOURS {
                let t = temp(station, hour);
                fixture.sum_temp += t;
                let rh = (hour * 7 + station * 13) % 100;
                let note = if hour % 24 == 0 { format!("day {}", hour / 24) } else { String::new() };
                fixture.notes += u64::from(!note.is_empty());
                csv.push_str(&format!("station_{station},{},{t},{rh},{note}\n", T0 + hour * HOUR));
            }
        }
        let file = fixture.dir.path().join("weather.csv");
        std::fs::write(&file, csv).expect("csv");
        fixture.ok(true, &["write", "--table", "weather", "--file", file.to_str().expect("utf8")]);
        fixture
    }

    /// A directory for local exports (not created).
    pub fn local(&self, name: &str) -> PathBuf {
        self.dir.path().join("local").join(name)
    }

    /// Runs the CLI with the admin (`true`) or the viewer token.
    pub fn isobar(&self, admin: bool, args: &[&str]) -> Output {
        let token = if admin { &self.admin } else { &self.viewer };
        Command::new(BIN)
            .arg("--addr")
            .arg(self.server.url())
            .arg("--token-file")
            .arg(token)
            .args(args)
            .env_remove("ISOBAR_TOKEN")
            .output()
            .expect("the CLI runs")
    }

    /// Runs a command that must succeed; its standard output.
    pub fn ok(&self, admin: bool, args: &[&str]) -> String {
        let out = self.isobar(admin, args);
        assert!(out.status.success(), "isobar {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf8")
    }

    /// Runs a command that must fail; its standard error.
    pub fn fails(&self, admin: bool, args: &[&str]) -> String {
        let out = self.isobar(admin, args);
        assert!(!out.status.success(), "isobar {args:?} succeeded: {}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8(out.stderr).expect("utf8")
    }
}

/// One Parquet file of an export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParquetFile {
    /// Rows.
    pub rows: u64,
    /// Column names.
    pub columns: Vec<String>,
    /// Size in bytes.
    pub bytes: u64,
}

/// Every file below `root` by path relative to it (`/`-separated); `.parquet` files read back.
pub fn files(root: &Path) -> BTreeMap<String, Option<ParquetFile>> {
    let mut out = BTreeMap::new();
    for path in isobar_testkit::files::files_below(root) {
        let rel = path.strip_prefix(root).expect("inside").to_string_lossy().into_owned();
        let parquet = rel.ends_with(".parquet").then(|| read(&path));
        out.insert(rel, parquet);
    }
    out
}

/// The rows, columns and size of one Parquet file.
pub fn read(path: &Path) -> ParquetFile {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("open")).expect("a Parquet file");
    ParquetFile {
        rows: u64::try_from(builder.metadata().file_metadata().num_rows()).expect("rows"),
        columns: builder.schema().fields().iter().map(|f| f.name().clone()).collect(),
        bytes: std::fs::metadata(path).expect("stat").len(),
    }
}

/// The directories holding the files of `layout` (`""` for the root), each once.
pub fn dirs(layout: &BTreeMap<String, Option<ParquetFile>>) -> Vec<String> {
    let mut out: Vec<String> =
        layout.keys().map(|p| p.rsplit_once('/').map(|(d, _)| d.to_owned()).unwrap_or_default()).collect();
    out.dedup();
    out
}

/// Total rows of the Parquet files of `layout`.
pub fn rows(layout: &BTreeMap<String, Option<ParquetFile>>) -> u64 {
    layout.values().flatten().map(|f| f.rows).sum()
}
