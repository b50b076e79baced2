//! The health checks of deploy/ run for real: the exact command lines of the Dockerfile's
//! `HEALTHCHECK`, the compose health check and the three Kubernetes probes, parsed out of the
//! files (so this test breaks when they change), each run against a plain-text server and a TLS
//! server, with the environment the deployment gives the container (its `0.0.0.0` listen
//! address included). Only the config file path is replaced by a temporary one describing the
//! server under test. A TLS server whose certificate is not the one of the config fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::pki::Pki;
use isobar::config::Config;
use serde_yaml_ng::Value;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence().expect("a list").iter().map(|s| s.as_str().expect("a string").to_owned()).collect()
}

fn yaml(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(deploy().join(file)).expect("readable");
    serde_yaml_ng::Deserializer::from_str(&text).map(|d| serde::Deserialize::deserialize(d).expect("YAML")).collect()
}

/// A health check of deploy/: where it is, its command line, and the environment it runs with.
struct Check {
    name: String,
    command: Vec<String>,
    env: Vec<(String, String)>,
}

/// The Dockerfile's `HEALTHCHECK` command and `ENV` variables.
fn dockerfile() -> Check {
    let text = std::fs::read_to_string(deploy().join("Dockerfile")).expect("Dockerfile").replace("\\\n", " ");
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.starts_with('#')).collect();
    let health = lines.iter().find(|l| l.starts_with("HEALTHCHECK")).expect("HEALTHCHECK");
    let command: Vec<String> =
        serde_yaml_ng::from_str(&health[health.find("CMD [").expect("exec form") + 4..]).expect("JSON array");
    let env = lines
        .iter()
        .filter_map(|l| l.strip_prefix("ENV "))
        .flat_map(str::split_whitespace)
        .filter_map(|pair| pair.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    Check { name: "Dockerfile HEALTHCHECK".into(), command, env }
}

/// The compose health check of the `isobar` service, with the service's environment.
fn compose() -> Check {
    let docs = yaml("compose.yaml");
    let service = &docs[0]["services"]["isobar"];
    let test = strings(&service["healthcheck"]["test"]);
    assert_eq!(test[0], "CMD");
    let env = service["environment"]
        .as_mapping()
        .expect("environment map")
        .iter()
        .map(|(k, v)| (k.as_str().expect("key").to_owned(), v.as_str().expect("value").to_owned()))
        .collect();
    Check { name: "compose healthcheck".into(), command: test[1..].to_vec(), env }
}

/// The StatefulSet's three probes, with the container's environment.
fn kubernetes() -> Vec<Check> {
    let docs = yaml("k8s/statefulset.yaml");
    let set = docs.iter().find(|d| d["kind"].as_str() == Some("StatefulSet")).expect("StatefulSet");
    let c = &set["spec"]["template"]["spec"]["containers"][0];
    let env: Vec<(String, String)> = c["env"]
        .as_sequence()
        .expect("env")
        .iter()
        .map(|e| (e["name"].as_str().expect("name").to_owned(), e["value"].as_str().expect("value").to_owned()))
        .collect();
    ["readinessProbe", "livenessProbe", "startupProbe"]
        .iter()
        .map(|probe| Check {
            name: format!("Kubernetes {probe}"),
            command: strings(&c[*probe]["exec"]["command"]),
            env: env.clone(),
        })
        .collect()
}

/// Runs `check` with the config file replaced by `config` and the gRPC port by `port`.
fn run(check: &Check, config: &Path, port: u16) -> Output {
    assert_eq!(check.command.first().map(String::as_str), Some("isobar"), "{}", check.name);
    let config_at = check.command.iter().position(|a| a == "--config").expect("health --config FILE") + 1;
    let mut args = check.command[1..].to_vec();
    args[config_at - 1] = config.to_str().expect("utf8").to_owned();
    let mut command = Command::new(BIN);
    command.args(&args);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("ISOBAR_")) {
        command.env_remove(key);
    }
    for (key, value) in &check.env {
        // The deployment's port is the container's; the server under test has its own.
        command.env(key, value.replace(":50051", &format!(":{port}")));
    }
    command.output().expect("runs")
}

/// Writes `config` (listening on `addr`) as the file the health check reads.
fn config_file(dir: &Path, name: &str, mut config: Config, addr: std::net::SocketAddr) -> PathBuf {
    config.server.listen = addr;
    let path = dir.join(name);
    std::fs::write(&path, config.to_toml()).expect("config file");
    path
}

#[test]
fn the_deploy_health_checks_pass_with_tls_off_and_on() {
    let checks: Vec<Check> = [dockerfile(), compose()].into_iter().chain(kubernetes()).collect();
    assert_eq!(checks.len(), 5);
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(dir.path(), "main");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");

    let plain = common::config(&dir.path().join("plain"));
    let mut tls = common::config(&dir.path().join("tls"));
    // A certificate for the public name only: the probe connects to loopback all the same.
    let (cert, key) = pki.leaf("server", &["isobar.example"]);
    tls.tls.cert = Some(cert);
    tls.tls.key = Some(key);
    let (plain_server, tls_server) = runtime.block_on(async {
        let plain_server = isobar::server::start(&plain).await.expect("plain server");
        let tls_server = isobar::server::start(&tls).await.expect("TLS server");
        (plain_server, tls_server)
    });
    let plain_file = config_file(dir.path(), "plain.toml", plain, plain_server.addr());
    let tls_file = config_file(dir.path(), "tls.toml", tls.clone(), tls_server.addr());

    for check in &checks {
        for (what, file, port) in
            [("plain text", &plain_file, plain_server.addr().port()), ("TLS", &tls_file, tls_server.addr().port())]
        {
            let out = run(check, file, port);
            let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success(), "{} against the {what} server: {stdout}{stderr}", check.name);
            assert!(stdout.contains("SERVING"), "{}: {stdout}", check.name);
        }
    }

    // Pinned, not trusting: a config whose certificate is not the server's fails the check.
    let mut other = tls;
    let (cert, key) = pki.leaf("other", &["isobar.example"]);
    other.tls.cert = Some(cert);
    other.tls.key = Some(key);
    let other_file = config_file(dir.path(), "other.toml", other, tls_server.addr());
    let out = run(&checks[0], &other_file, tls_server.addr().port());
    assert!(!out.status.success(), "a server with another certificate must fail the check");
    // Plain text configured, TLS served: the check fails and says why.
    let out = run(&checks[0], &plain_file, tls_server.addr().port());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("speaks TLS"), "{stderr}");

    runtime.block_on(async {
        plain_server.stop().await.expect("stops");
        tls_server.stop().await.expect("stops");
    });
}
