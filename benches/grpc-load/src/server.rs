//! The server under test: started as a child process on a free loopback port, watched through
//! `/proc/<pid>/status`, stopped with SIGTERM.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Why the server could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The binary could not be started or signalled.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The server did not accept connections in time.
    #[error("the server did not come up on {0} within 30 s")]
    NotUp(String),
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
    child: Child,
    addr: String,
    _dir: Option<tempfile::TempDir>,
}

/// A field of `/proc/<pid>/status` in KiB.
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl Server {
    /// Starts `bin serve` with `ISOBAR_STORAGE_SYNC=sync` over `data_dir` (or a temporary one).
    pub async fn start(bin: &Path, sync: &str, data_dir: Option<&Path>) -> Result<Server, ServerError> {
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| ServerError::Io { what, source }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(io("finding a free port"))?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let (dir, temp) = match data_dir {
            Some(d) => (d.to_path_buf(), None),
            None => {
                let t = tempfile::tempdir().map_err(io("creating a data directory"))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let child = Command::new(bin)
            .args(["serve", "--listen", &addr, "--data-dir"])
            .arg(&dir)
            .env("ISOBAR_STORAGE_SYNC", sync)
            .env("ISOBAR_LOG_LEVEL", "warn")
            .env("ISOBAR_METRICS_LISTEN", "127.0.0.1:0")
            .stdin(Stdio::null())
            .spawn()
            .map_err(io(&format!("starting {}", bin.display())))?;
        let server = Server { child, addr, _dir: temp };
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(&server.addr).await.is_err() {
            if Instant::now() > deadline {
                return Err(ServerError::NotUp(server.addr.clone()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts sampling the server's resident set.
    pub fn rss_sampler(&self) -> RssSampler {
        let pid = self.child.id();
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(0));
        let (s, m) = (stop.clone(), max.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(kib) = proc_status_kib(pid, "VmRSS:") {
                    m.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        RssSampler { stop, max, thread: Some(thread) }
    }

    /// Reads the peak RSS, sends SIGTERM and waits for a clean exit.
    pub async fn stop(mut self, sampled_max_kib: Option<u64>) -> Result<Rss, ServerError> {
        let pid = self.child.id();
        let peak_kib = proc_status_kib(pid, "VmHWM:").unwrap_or(0);
        let io = |what: &'static str| move |source| ServerError::Io { what: what.into(), source };
        Command::new("kill").args(["-TERM", &pid.to_string()]).status().map_err(io("sending SIGTERM"))?;
        let status = tokio::task::spawn_blocking(move || self.child.wait())
            .await
            .map_err(|e| ServerError::Io { what: "waiting for the server".into(), source: std::io::Error::other(e) })?
            .map_err(io("waiting for the server"))?;
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
