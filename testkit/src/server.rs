//! `isobar serve` as a child process: on a free loopback port (or a given one, to restart on the
//! same address), over a given data directory, configured by arguments and `ISOBAR_*` variables,
//! waited for until it accepts TCP connections, stopped with SIGTERM (a clean stop) or SIGKILL (a
//! crash), and killed when dropped so that a failing test leaves no server behind.
//!
//! Only the child started here is ever signalled, by its PID.
//!
//! Defaults of every server started here: `serve --listen <addr> --data-dir <dir>`,
//! `ISOBAR_LOG_LEVEL=warn`, `ISOBAR_METRICS_LISTEN=127.0.0.1:0` (both overridable with
//! [`ServerCommand::env`]), stdin closed, stdout and stderr inherited unless
//! [`ServerCommand::log_file`] sends stderr to a file; up to 60 s to come up.

use std::ffi::OsString;
use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::procfs;

/// Why a server could not be started, reached or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed (spawning, signalling, waiting, opening the log).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The server exited, or did not accept connections within the wait.
    #[error("the server did not accept connections on {addr} within {secs} s{exited}{tail}")]
    NotUp {
        /// The address it was told to listen on.
        addr: SocketAddr,
        /// How long we waited at most.
        secs: u64,
        /// `", it exited with ..."` when it exited, else empty.
        exited: String,
        /// The last lines of its log file, when it has one, after a newline; else empty.
        tail: String,
    },
    /// SIGTERM did not stop the server in time; it was SIGKILLed and exited with `status`.
    #[error("the server did not exit within {secs} s of SIGTERM; killed, it exited with {status}")]
    NotStopped {
        /// How long we waited.
        secs: u64,
        /// Its exit status after SIGKILL.
        status: ExitStatus,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// A loopback address with a port that was free a moment ago (the OS picked it).
pub fn free_addr() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// How to start a server; see the [module docs](self) for the defaults.
#[derive(Clone, Debug)]
pub struct ServerCommand {
    bin: PathBuf,
    data_dir: PathBuf,
    listen: Option<SocketAddr>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    log: Option<PathBuf>,
    wait: Duration,
}

impl ServerCommand {
    /// `bin serve` over `data_dir` (created by the server if missing).
    pub fn new(bin: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        let env = [("ISOBAR_LOG_LEVEL", "warn"), ("ISOBAR_METRICS_LISTEN", "127.0.0.1:0")];
        Self {
            bin: bin.into(),
            data_dir: data_dir.into(),
            listen: None,
            args: Vec::new(),
            env: env.iter().map(|(k, v)| (k.into(), v.into())).collect(),
            log: None,
            wait: Duration::from_secs(60),
        }
    }

    /// Listens on `addr` instead of a free port (to restart a server on the same address).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// One more argument after `serve --listen <addr> --data-dir <dir>` (such as `--config`).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets an environment variable of the server (a later value for the same key wins).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Appends the server's stderr (its log) to `path`, and discards its stdout.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log = Some(path.into());
        self
    }

    /// How long [`ServerCommand::start`] waits for the server to accept connections (default 60 s).
    pub fn wait_at_most(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Spawns the server and returns at once, without waiting for it to accept connections.
    pub fn spawn(self) -> Result<ServerProcess, Error> {
        let addr = match self.listen {
            Some(addr) => addr,
            None => free_addr().map_err(io("finding a free port"))?,
        };
        let mut command = Command::new(&self.bin);
        command.arg("serve").arg("--listen").arg(addr.to_string()).arg("--data-dir").arg(&self.data_dir);
        command.args(&self.args).stdin(Stdio::null());
        for (k, v) in &self.env {
            command.env(k, v);
        }
        if let Some(log) = &self.log {
            let file = File::options().create(true).append(true).open(log).map_err(io("opening the server log"))?;
            command.stdout(Stdio::null()).stderr(file);
        }
        let child = command.spawn().map_err(io(format!("starting {}", self.bin.display())))?;
        Ok(ServerProcess { child, addr, log: self.log, wait: self.wait })
    }

    /// Spawns the server and blocks until it accepts connections (see [`ServerProcess::wait_serving`]).
    pub fn start(self) -> Result<ServerProcess, Error> {
        let mut server = self.spawn()?;
        server.wait_serving()?;
        Ok(server)
    }

    /// [`ServerCommand::start`] for async callers: waits with tokio's timer between attempts.
    pub async fn start_async(self) -> Result<ServerProcess, Error> {
        let mut server = self.spawn()?;
        server.wait_serving_async().await?;
        Ok(server)
    }
}

/// A started server; SIGKILLed and reaped when dropped while still running.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    log: Option<PathBuf>,
    wait: Duration,
}

/// Pause between two connection attempts.
const POLL: Duration = Duration::from_millis(20);

impl ServerProcess {
    /// The gRPC address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set now, in KiB (`VmRSS`); `None` once it is gone.
    pub fn rss_kib(&self) -> Option<u64> {
        procfs::pid_status_kib(self.pid(), "VmRSS")
    }

    /// Peak resident set, in KiB (`VmHWM`); `None` once it is gone.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        procfs::pid_status_kib(self.pid(), "VmHWM")
    }

    /// One step of the wait: `Ok(true)` once a TCP connection succeeds, an error once the server
    /// has exited or the deadline has passed (the server is then killed).
    fn poll_serving(&mut self, deadline: Instant) -> Result<bool, Error> {
        // A connection to loopback is refused at once while nothing listens: this never blocks long.
        if TcpStream::connect(self.addr).is_ok() {
            return Ok(true);
        }
        let exited = self.child.try_wait().map_err(io("checking the server"))?;
        if exited.is_none() && Instant::now() < deadline {
            return Ok(false);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let tail = self.log.as_deref().map(log_tail).unwrap_or_default();
        Err(Error::NotUp {
            addr: self.addr,
            secs: self.wait.as_secs(),
            exited: exited.map(|s| format!(", it exited with {s}")).unwrap_or_default(),
            tail,
        })
    }

    /// Blocks until the server accepts TCP connections on its address; fails (and kills it) if
    /// it exits first or does not within the wait.
    pub fn wait_serving(&mut self) -> Result<(), Error> {
        let deadline = Instant::now() + self.wait;
        while !self.poll_serving(deadline)? {
            std::thread::sleep(POLL);
        }
        Ok(())
    }

    /// [`ServerProcess::wait_serving`] for async callers.
    pub async fn wait_serving_async(&mut self) -> Result<(), Error> {
        let deadline = Instant::now() + self.wait;
        while !self.poll_serving(deadline)? {
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    /// Sends SIGTERM (a clean stop) to the server's PID without waiting.
    pub fn terminate(&self) -> Result<(), Error> {
        let status =
            Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().map_err(io("running kill -TERM"))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Io {
                what: format!("kill -TERM {}", self.pid()),
                source: std::io::Error::other(status.to_string()),
            })
        }
    }

    /// Waits for the server to exit (blocking).
    pub fn wait(&mut self) -> Result<ExitStatus, Error> {
        self.child.wait().map_err(io("waiting for the server"))
    }

    /// SIGTERM, then waits at most `timeout` for the exit (with tokio's timer); after that,
    /// SIGKILL and [`Error::NotStopped`].
    pub async fn stop_async(mut self, timeout: Duration) -> Result<ExitStatus, Error> {
        self.terminate()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(io("waiting for the server"))? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                self.child.kill().map_err(io("sending SIGKILL after SIGTERM timed out"))?;
                let status = self.wait()?;
                return Err(Error::NotStopped { secs: timeout.as_secs(), status });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// SIGKILLs the server (a crash) and reaps it.
    pub fn kill(mut self) -> Result<(), Error> {
        self.child.kill().map_err(io("sending SIGKILL"))?;
        self.wait()?;
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A newline and the last 20 lines of the log at `path` (empty if unreadable).
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines.get(lines.len().saturating_sub(20)..).unwrap_or_default();
    format!("; its log {} ends with:\n{}", path.display(), tail.join("\n"))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// An executable shell script standing in for the `isobar` binary (it ignores its arguments).
    fn fake_bin(dir: &Path, script: &str) -> PathBuf {
        let path = dir.join("fake-isobar");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    #[test]
    fn a_free_addr_is_loopback_with_a_port() {
        let addr = free_addr().expect("free port");
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0);
    }

    #[test]
    fn a_server_that_exits_at_once_is_reported_with_its_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = fake_bin(dir.path(), "echo \"broken config: $*\" >&2; exit 3");
        let log = dir.path().join("server.log");
        let started = Instant::now();
        let err = ServerCommand::new(bin, dir.path().join("data"))
            .log_file(&log)
            .wait_at_most(Duration::from_secs(30))
            .start()
            .expect_err("never serves");
        assert!(started.elapsed() < Duration::from_secs(20), "an exit is noticed before the deadline");
        let text = err.to_string();
        assert!(matches!(err, Error::NotUp { .. }), "{text}");
        assert!(text.contains("it exited with exit status: 3"), "{text}");
        // The log shows the arguments the server was given.
        assert!(text.contains("broken config: serve --listen 127.0.0.1:"), "{text}");
        assert!(text.contains(&format!("--data-dir {}", dir.path().join("data").display())), "{text}");
    }

    #[test]
    fn a_listening_server_is_served_terminated_and_waited_for() {
        // The test listens on the address in place of the stand-in, which just sleeps.
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let bin = fake_bin(dir.path(), "exec sleep 30");
        let mut server = ServerCommand::new(bin, dir.path()).listen(addr).start().expect("serving");
        assert_eq!(server.addr(), addr);
        assert_eq!(server.url(), format!("http://{addr}"));
        assert!(server.rss_kib().is_some_and(|k| k > 0));
        server.terminate().expect("SIGTERM");
        let status = server.wait().expect("exits");
        assert!(!status.success(), "sleep dies of SIGTERM: {status}");
        assert_eq!(server.rss_kib(), None, "reaped, /proc/<pid> is gone");
    }

    #[test]
    fn dropping_a_server_kills_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = fake_bin(dir.path(), "exec sleep 30");
        let server = ServerCommand::new(bin, dir.path()).spawn().expect("spawned");
        let pid = server.pid();
        assert!(procfs::pid_status_kib(pid, "VmRSS").is_some());
        drop(server);
        assert_eq!(procfs::pid_status_kib(pid, "VmRSS"), None, "killed and reaped");
    }
}
