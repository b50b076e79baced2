//! The server under test as a child process: `isobar serve` on a free loopback port over a given
//! data directory, configured through `ISOBAR_*` variables, stopped with SIGKILL (a crash) or
//! SIGTERM (a clean stop), and watched through `/proc/<pid>/status`.
//!
//! Only the child this module started is ever signalled, by its PID.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Why the server could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The binary could not be started, signalled or waited for.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The server did not accept connections in time.
    #[error("the server did not accept connections on {addr} within {secs} s; its log {log} ends with:\n{tail}")]
    NotUp {
        /// The address it was told to listen on.
        addr: String,
        /// How long we waited.
        secs: u64,
        /// Its log file.
        log: PathBuf,
        /// The last lines of its log.
        tail: String,
    },
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

/// A started server.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    addr: String,
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS:`, `VmHWM:`).
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ProcessError {
    let what = what.into();
    move |source| ProcessError::Io { what, source }
}

impl ServerProcess {
    /// Starts the server of `spec` and waits (at most 60 s) until it accepts connections.
    pub async fn start(spec: &ServerSpec) -> Result<ServerProcess, ProcessError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(io("finding a free port"))?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let log = File::options().create(true).append(true).open(&spec.log).map_err(io("opening the server log"))?;
        let mut command = Command::new(&spec.bin);
        command.args(["serve", "--listen", &addr, "--data-dir"]).arg(&spec.data_dir);
        command.env("ISOBAR_LOG_LEVEL", "warn");
        command.env("ISOBAR_METRICS_LISTEN", "127.0.0.1:0");
        for (k, v) in &spec.env {
            command.env(k, v);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(io(format!("starting {}", spec.bin.display())))?;
        let mut server = ServerProcess { child, addr };
        let wait = Duration::from_secs(60);
        let deadline = Instant::now() + wait;
        while tokio::net::TcpStream::connect(&server.addr).await.is_err() {
            let exited = server.child.try_wait().ok().flatten().is_some();
            if exited || Instant::now() > deadline {
                let _ = server.child.kill();
                let _ = server.child.wait();
                let text = std::fs::read_to_string(&spec.log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(20)..].join("\n");
                return Err(ProcessError::NotUp {
                    addr: server.addr.clone(),
                    secs: wait.as_secs(),
                    log: spec.log.clone(),
                    tail,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(server)
    }

    /// The `http://` URL of the server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Current resident set in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmRSS:").unwrap_or(0)
    }

    /// Peak resident set in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmHWM:").unwrap_or(0)
    }

    /// SIGKILLs the server (by its PID) and reaps it.
    pub fn kill(mut self) -> Result<(), ProcessError> {
        self.child.kill().map_err(io("sending SIGKILL"))?;
        self.child.wait().map_err(io("waiting for the killed server"))?;
        Ok(())
    }

    /// SIGTERMs the server and waits (at most 120 s, then SIGKILL) for a clean exit.
    pub async fn stop(mut self) -> Result<(), ProcessError> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().map_err(io("sending SIGTERM"))?;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().map_err(io("waiting for the server"))? {
                return if status.success() { Ok(()) } else { Err(ProcessError::BadExit(status)) };
            }
            if Instant::now() > deadline {
                self.child.kill().map_err(io("sending SIGKILL after SIGTERM timed out"))?;
                let status = self.child.wait().map_err(io("waiting for the server"))?;
                return Err(ProcessError::BadExit(status));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ServerProcess {
    /// A server left behind by a failing harness is killed rather than orphaned.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
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
