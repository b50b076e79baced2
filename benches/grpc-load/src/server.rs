//! The server under test: started as a child process on a free loopback port (by the test kit's
//! [`ServerCommand`]), watched through `/proc/<pid>/status`, stopped with SIGTERM.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use isobar_testkit::procfs;
use isobar_testkit::server::{self, ServerCommand, ServerProcess};

/// Why the server could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// It could not be started, did not come up in time, or could not be signalled.
    #[error(transparent)]
    Process(#[from] server::Error),
    /// A local resource (data directory, waiting thread) failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The server exited with an error status on SIGTERM.
    #[error("the server exited with {0} on SIGTERM (expected 0)")]
    BadExit(std::process::ExitStatus),
}

/// Memory figures of the server, in KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rss {
    /// `VmHWM`: the kernel's peak resident set of the process.
    pub peak_kib: u64,
    /// Largest `VmRSS` seen by sampling every 100 ms during the load.
    pub sampled_max_kib: u64,
}

/// A started server.
pub struct Server {
    process: ServerProcess,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts `bin serve` with `ISOBAR_STORAGE_SYNC=sync` over `data_dir` (or a temporary one),
    /// with `--config config` when given.
    pub async fn start(
        bin: &Path,
        sync: &str,
        data_dir: Option<&Path>,
        config: Option<&Path>,
    ) -> Result<Server, ServerError> {
        let (dir, temp) = match data_dir {
            Some(d) => (d.to_path_buf(), None),
            None => {
                let t = tempfile::tempdir()
                    .map_err(|source| ServerError::Io { what: "creating a data directory".into(), source })?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let mut command =
            ServerCommand::new(bin, dir).env("ISOBAR_STORAGE_SYNC", sync).wait_at_most(Duration::from_secs(30));
        if let Some(config) = config {
            command = command.arg("--config").arg(config);
        }
        let process = command.start_async().await?;
        Ok(Server { process, _dir: temp })
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        self.process.url()
    }

    /// Starts sampling the server's resident set.
    pub fn rss_sampler(&self) -> RssSampler {
        let pid = self.process.pid();
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(0));
        let (s, m) = (stop.clone(), max.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(kib) = procfs::pid_status_kib(pid, "VmRSS") {
                    m.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        RssSampler { stop, max, thread: Some(thread) }
    }

    /// Reads the peak RSS, sends SIGTERM and waits for a clean exit.
    pub async fn stop(self, sampled_max_kib: Option<u64>) -> Result<Rss, ServerError> {
        let mut process = self.process;
        let peak_kib = process.peak_rss_kib().unwrap_or(0);
        process.terminate()?;
        let status = tokio::task::spawn_blocking(move || process.wait()).await.map_err(|e| ServerError::Io {
            what: "waiting for the server".into(),
            source: std::io::Error::other(e),
        })??;
        if !status.success() {
            return Err(ServerError::BadExit(status));
        }
        Ok(Rss { peak_kib, sampled_max_kib: sampled_max_kib.unwrap_or(0) })
    }
}

/// Samples `VmRSS` on a thread until stopped.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl RssSampler {
    /// Stops sampling; returns the largest sample in KiB.
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.max.load(Ordering::Relaxed)
    }
}
