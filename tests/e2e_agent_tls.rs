//! `isobar agent` against a TLS server: with `server.url = "https://..."` and `server.tls_ca`,
//! a real agent process streams a generated workload to a server whose port speaks only TLS,
//! and every row arrives. (Before the agent had TLS settings, an https:// url could not connect.)

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::pki::Pki;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");
const SERIES: usize = 3;
const TIMESTAMPS: usize = 40;

/// The agent process, killed when dropped.
struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn agent_config(dir: &Path, url: &str, ca: &Path) -> std::path::PathBuf {
    let text = format!(
        "[server]\nurl = \"{url}\"\ntls_ca = \"{}\"\nconnect_timeout_ms = 2000\n\
         [queue]\ndir = \"{}\"\n[batch]\nmax_delay_ms = 20\n[backoff]\ninitial_ms = 50\nmax_ms = 500\n\
         [[source]]\ntype = \"generator\"\nworkload = \"weather\"\nseries = {SERIES}\ntimestamps = {TIMESTAMPS}\n\
         ts_per_batch = 10\n",
        ca.display(),
        dir.join("queue").display()
    );
    let path = dir.join("agent.toml");
    std::fs::write(&path, text).expect("agent config");
    path
}

#[test]
fn the_agent_forwards_to_a_tls_server_over_https() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(dir.path(), "main");
    let mut config = common::config(&dir.path().join("data"));
    let (cert, key) = pki.leaf("server", &["127.0.0.1", "localhost"]);
    config.tls.cert = Some(cert);
    config.tls.key = Some(key);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let running = runtime.block_on(isobar::server::start(&config)).expect("TLS server starts");
    let url = running.url();
    assert!(url.starts_with("https://"), "{url}");

    let file = agent_config(dir.path(), &url, &pki.ca_file("main"));
    let child = Command::new(BIN)
        .args(["agent", "run", "--config"])
        .arg(&file)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .expect("agent starts");
    let agent = Agent(child);

    let options = isobar::client::ClientOptions { tls_ca: Some(pki.ca_file("main")), ..Default::default() };
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut rows = 0;
    while rows < SERIES * TIMESTAMPS {
        assert!(Instant::now() < deadline, "only {rows} of {} rows arrived over TLS", SERIES * TIMESTAMPS);
        std::thread::sleep(Duration::from_millis(200));
        rows = runtime.block_on(async {
            let mut client = isobar::client::Client::connect_with(&url, &options).await.expect("TLS client");
            let tables = client.admin.list_tables(isobar_proto::v1::ListTablesRequest {}).await.expect("list");
            if tables.into_inner().tables.iter().all(|t| t.name != "weather") {
                return 0;
            }
            let batches = common::scan_all(&mut client, "weather", &["weather.temperature"]).await;
            common::row_count(&batches)
        });
    }
    assert_eq!(rows, SERIES * TIMESTAMPS, "every row exactly once");
    // The agent's stream would hold the server's shutdown for server.shutdown_timeout.
    drop(agent);
    runtime.block_on(running.stop()).expect("stops");
}
