//! Real `isobar serve` and `isobar agent run` processes for the agent's end-to-end tests.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use isobar_testkit::server::{ServerCommand, ServerProcess};

/// The `isobar` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_isobar");

/// A child process killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Proc {
    /// SIGKILLs the process and reaps it.
    pub fn kill(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback `host:port`.
pub fn free_addr() -> String {
    isobar_testkit::server::free_addr().expect("free port").to_string()
}

/// `isobar serve` over `data` on `addr`.
pub fn start_server(data: &Path, addr: &str) -> ServerProcess {
    ServerCommand::new(BIN, data).listen(addr.parse().expect("addr")).start().expect("serve starts")
}

/// `isobar agent run --config <config>`.
pub fn start_agent(config: &Path) -> Proc {
    let child = Command::new(BIN)
        .args(["agent", "run", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .expect("agent starts");
    Proc(child)
}
