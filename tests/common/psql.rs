//! `psql`, Debian's PostgreSQL client, run by the PostgreSQL front end's tests: with none of the
//! caller's libpq settings, never prompting, stopping at the first error, SQLSTATEs in messages.

use std::process::Command;

/// Environment variables libpq reads: none of the caller's may leak into psql.
pub const LIBPQ_ENV: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGSSLMODE",
    "PGOPTIONS",
    "PGAPPNAME",
    "PGTZ",
    "PGDATESTYLE",
    "PGCLIENTENCODING",
    "PGCONNECT_TIMEOUT",
    "PSQLRC",
    "PSQL_PAGER",
    "PAGER",
];

/// What a psql run printed and how it exited.
pub struct Psql {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Psql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "psql exited {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl Psql {
    /// Asserts a zero exit status; stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "{self}");
        &self.stdout
    }

    /// Whether one line of stdout holds every one of `needles`.
    pub fn has_line(&self, needles: &[&str]) -> bool {
        self.stdout.lines().any(|line| needles.iter().all(|needle| line.contains(needle)))
    }
}

/// Fails the test, saying how to get `psql`, when it is not installed.
pub fn require_psql() {
    match Command::new("psql").arg("--version").output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!("`psql --version` failed: {}", String::from_utf8_lossy(&output.stderr)),
        Err(e) => panic!(
            "psql is needed by this test and could not be run ({e}): `bash scripts/test.sh` installs Debian's \
             postgresql-client when it is missing (or run `apt-get install postgresql-client`)"
        ),
    }
}

/// Runs `psql` with `args` (connection options or a connection string, then commands), with
/// `password` in `PGPASSWORD` when given.
pub async fn run_psql(args: &[&str], password: Option<&str>) -> Psql {
    require_psql();
    let mut command = Command::new("psql");
    command.args(args).args(["-X", "-w", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose"]);
    for name in LIBPQ_ENV {
        command.env_remove(name);
    }
    // Untranslated messages; no GSSAPI encryption attempt (the tests are not about Kerberos); a
    // connection that cannot be made fails instead of hanging the test.
    command.env("LC_ALL", "C").env("PGGSSENCMODE", "disable").env("PGCONNECT_TIMEOUT", "10");
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = tokio::task::spawn_blocking(move || command.output()).await.expect("joined").expect("psql runs");
    Psql {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
