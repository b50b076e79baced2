//! The server under test as a child process: `isobar serve` on a free loopback port over a given
//! data directory, configured through `ISOBAR_*` variables, stopped with SIGKILL (a crash) or
//! SIGTERM (a clean stop), and watched through `/proc/<pid>/status`: the harnesses' view of
//! [`isobar_testkit::server`], which starts, waits for and signals it (by its PID only).

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use isobar_testkit::server::{self, ServerCommand};

/// Why the server could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// It could not be started, did not come up, or could not be signalled or waited for.
    #[error(transparent)]
    Server(#[from] server::Error),
    /// The server exited with an error status on SIGTERM.
    #[error("the server exited with {0} on SIGTERM (expected success)")]
    BadExit(ExitStatus),
}

/// How to start the server.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    /// The `isobar` binary.
    pub bin: PathBuf,
    /// The data directory (kept across restarts).
    pub data_dir: PathBuf,
    /// The file the server's stderr is appended to.
    pub log: PathBuf,
    /// `ISOBAR_*` variables, e.g. `("ISOBAR_STORAGE_SYNC", "always")`.
    pub env: Vec<(String, String)>,
}

/// A started server (the test kit's process, killed on drop).
#[derive(Debug)]
pub struct ServerProcess(isobar_testkit::server::ServerProcess);

impl ServerProcess {
    /// Starts the server of `spec` and waits (at most 60 s) until it accepts connections.
    pub async fn start(spec: &ServerSpec) -> Result<ServerProcess, ProcessError> {
        let mut command = ServerCommand::new(&spec.bin, &spec.data_dir).log_file(&spec.log);
        for (k, v) in &spec.env {
            command = command.env(k, v);
        }
        Ok(ServerProcess(command.wait_at_most(Duration::from_secs(60)).start_async().await?))
    }

    /// The `http://` URL of the server.
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.0.pid()
    }

    /// Current resident set in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        self.0.rss_kib().unwrap_or(0)
    }

    /// Peak resident set in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        self.0.peak_rss_kib().unwrap_or(0)
    }

    /// SIGKILLs the server (by its PID) and reaps it.
    pub fn kill(self) -> Result<(), ProcessError> {
        Ok(self.0.kill()?)
    }

    /// SIGTERMs the server and waits (at most 120 s, then SIGKILL) for a clean exit.
    pub async fn stop(self) -> Result<(), ProcessError> {
        match self.0.stop_async(Duration::from_secs(120)).await {
            Ok(status) if status.success() => Ok(()),
            Ok(status) | Err(server::Error::NotStopped { status, .. }) => Err(ProcessError::BadExit(status)),
            Err(e) => Err(e.into()),
        }
    }
}

/// `spec` with `data_dir` and a log next to it.
pub fn spec(bin: &Path, data_dir: &Path, log: &Path, env: &[(&str, &str)]) -> ServerSpec {
    ServerSpec {
        bin: bin.to_path_buf(),
        data_dir: data_dir.to_path_buf(),
        log: log.to_path_buf(),
        env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    }
}
