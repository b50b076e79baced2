//! The files under deploy/ are checked against the real binary and config loader: every YAML
//! parses, the Kubernetes objects have the expected kinds, ports, probes and memory limits that
//! fit the configured budgets, the config embedded in the ConfigMap loads, the health-check
//! commands of the Dockerfile, compose file and probes are real `isobar` invocations that read the
//! configuration the server runs with, and the systemd unit is hardened and starts `isobar serve`
//! with flags that exist. The agent's unit, compose service and Kubernetes example run
//! `isobar agent run` with flags that exist, configs that load and the queue on persistent
//! storage. tests/deploy_health.rs runs the health checks against real servers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use isobar::config::Config;
use serde_yaml_ng::Value;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");
const GRPC_PORT: u64 = 50051;
const METRICS_PORT: u64 = 9470;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// Every YAML document of every `.yaml`/`.yml` file under deploy/, by file.
fn yaml_documents() -> BTreeMap<PathBuf, Vec<Value>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![deploy()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("deploy/ readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let text = std::fs::read_to_string(&path).expect("readable");
                let docs: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&text)
                    .map(|d| serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
                    .collect();
                out.insert(path, docs);
            }
        }
    }
    out
}

/// Runs `isobar <args> --help`: clap refuses an unknown subcommand or flag before printing help.
fn assert_real_invocation(args: &[String]) {
    assert_eq!(args.first().map(String::as_str), Some("isobar"), "{args:?}");
    let out = Command::new(BIN).args(&args[1..]).arg("--help").output().expect("runs");
    assert!(out.status.success(), "{args:?} is not a valid isobar command: {}", String::from_utf8_lossy(&out.stderr));
}

/// The value after `name` in a command line.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// `isobar` plus a compose service's `command`.
fn command_of(service: &Value) -> Vec<String> {
    let mut command = vec!["isobar".to_owned()];
    command.extend(strings(&service["command"]));
    command
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence().expect("a list").iter().map(|s| s.as_str().expect("a string").to_owned()).collect()
}

/// Bytes of a Kubernetes quantity like `1Gi` or `768Mi`.
fn quantity(v: &Value) -> u64 {
    let s = v.as_str().expect("quantity");
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let mult = match unit {
        "Gi" => 1 << 30,
        "Mi" => 1 << 20,
        "Ki" => 1 << 10,
        "" => 1,
        other => panic!("unexpected unit {other}"),
    };
    num.parse::<u64>().expect("number") * mult
}

fn k8s_objects() -> BTreeMap<String, Vec<Value>> {
    let mut kinds: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (path, docs) in yaml_documents() {
        if path.parent().is_some_and(|p| p.ends_with("k8s")) {
            for doc in docs {
                let kind = doc["kind"].as_str().unwrap_or_else(|| panic!("{}: no kind", path.display())).to_owned();
                assert!(doc["apiVersion"].is_string() && doc["metadata"]["name"].is_string(), "{}", path.display());
                kinds.entry(kind).or_default().push(doc);
            }
        }
    }
    kinds
}

#[test]
fn kubernetes_manifests_fit_the_binary_and_the_config() {
    let kinds = k8s_objects();
    for kind in ["StatefulSet", "Service", "ConfigMap"] {
        assert!(kinds.contains_key(kind), "no {kind} in deploy/k8s: {:?}", kinds.keys().collect::<Vec<_>>());
    }
    let services = &kinds["Service"];
    assert!(services.iter().any(|s| s["spec"]["clusterIP"].as_str() == Some("None")), "a headless Service");

    // The embedded config loads with the real loader and sets the budgets the limits are sized for.
    let toml = kinds["ConfigMap"][0]["data"]["isobar.toml"].as_str().expect("isobar.toml in the ConfigMap");
    let config = Config::from_toml(toml, Path::new("configmap/isobar.toml")).expect("ConfigMap config parses");
    config.validate().expect("ConfigMap config is valid");
    assert_eq!(config.server.data_dir, Path::new("/var/lib/isobar"));
    assert!(config.auth.enabled && !config.auth.tokens.is_empty(), "0.0.0.0 needs authentication on");

    let set = &kinds["StatefulSet"][0]["spec"];
    assert!(set["volumeClaimTemplates"][0]["metadata"]["name"].is_string(), "a persistent volume per pod");
    let pod = &set["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let grace = pod["terminationGracePeriodSeconds"].as_u64().expect("grace period");
    let stop_budget = (config.server.shutdown_timeout.0 + config.server.shutdown_flush_timeout.0).as_secs();
    assert!(grace > stop_budget, "grace {grace}s must exceed shutdown_timeout + shutdown_flush_timeout");
    let c = &pod["containers"][0];
    let ports: BTreeMap<String, u64> = c["ports"]
        .as_sequence()
        .expect("ports")
        .iter()
        .map(|p| (p["name"].as_str().expect("name").to_owned(), p["containerPort"].as_u64().expect("port")))
        .collect();
    assert_eq!(ports.get("grpc"), Some(&GRPC_PORT));
    assert_eq!(ports.get("metrics"), Some(&METRICS_PORT));
    assert_eq!(config.server.listen.port() as u64, GRPC_PORT, "the ConfigMap's port is the container port");
    let env: BTreeMap<String, String> = c["env"]
        .as_sequence()
        .expect("env")
        .iter()
        .map(|e| (e["name"].as_str().expect("name").to_owned(), e["value"].as_str().expect("value").to_owned()))
        .collect();
    assert_eq!(env["ISOBAR_SERVER_LISTEN"], format!("0.0.0.0:{GRPC_PORT}"));
    assert_eq!(env["ISOBAR_METRICS_LISTEN"], format!("0.0.0.0:{METRICS_PORT}"));
    for s in services {
        for p in s["spec"]["ports"].as_sequence().expect("service ports") {
            let target = p["targetPort"].as_str().expect("named targetPort");
            assert_eq!(ports.get(target), p["port"].as_u64().as_ref(), "Service port {target} matches the container");
        }
    }

    // Probes: `isobar health --config` with the config the server runs with (a real command;
    // the kubelet's own grpc probe cannot speak TLS). tests/deploy_health.rs runs them.
    let mut args = vec!["isobar".to_owned()];
    args.extend(strings(&c["args"]));
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        let command = strings(&c[probe]["exec"]["command"]);
        assert_eq!(command.get(1).map(String::as_str), Some("health"), "{probe}");
        assert_eq!(flag(&command, "--config"), flag(&args, "--config"), "{probe} reads the server's config");
        assert_real_invocation(&command);
    }
    assert!(!args.iter().any(|a| a == "--insecure"), "authentication, not --insecure: {args:?}");
    assert_real_invocation(&args);

    // Memory: the limit covers the budgets the config sets, plus headroom.
    let budgets =
        config.storage.memtable_budget.0 + config.storage.block_cache_size.0 + config.server.max_inflight_write_bytes.0;
    let limit = quantity(&c["resources"]["limits"]["memory"]);
    let request = quantity(&c["resources"]["requests"]["memory"]);
    assert!(limit >= budgets + (128 << 20), "memory limit {limit} below the budgets {budgets} + 128 MiB");
    assert!(request >= budgets && request <= limit, "memory request {request}");
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"].as_bool(), Some(false));
}

#[test]
fn compose_runs_isobar_with_prometheus_and_a_real_health_check() {
    let docs = yaml_documents();
    let compose = &docs.get(&deploy().join("compose.yaml")).expect("deploy/compose.yaml")[0];
    let isobar = &compose["services"]["isobar"];
    let prometheus = &compose["services"]["prometheus"];
    assert!(prometheus["image"].as_str().expect("image").starts_with("prom/prometheus"));
    assert!(strings(&prometheus["volumes"]).iter().any(|v| v.starts_with("./prometheus.yml:")));
    let test = strings(&isobar["healthcheck"]["test"]);
    assert_eq!(test[0], "CMD");
    assert_real_invocation(&test[1..]);
    assert_eq!(
        flag(&test, "--config"),
        flag(&command_of(isobar), "--config"),
        "the health check reads the server's config"
    );
    assert!(strings(&isobar["volumes"]).iter().any(|v| v.ends_with(":/var/lib/isobar")));
    let env = &isobar["environment"];
    assert_eq!(env["ISOBAR_SERVER_LISTEN"].as_str(), Some("0.0.0.0:50051"));
    assert_eq!(env["ISOBAR_METRICS_LISTEN"].as_str(), Some("0.0.0.0:9470"));
    let mut command = vec!["isobar".to_owned()];
    command.extend(strings(&isobar["command"]));
    assert!(!command.iter().any(|a| a == "--insecure"), "authentication, not --insecure: {command:?}");
    assert_real_invocation(&command);
    // The config compose mounts loads, and turns authentication on for the 0.0.0.0 listener.
    let mount = strings(&isobar["volumes"])
        .into_iter()
        .find(|v| v.ends_with(":/etc/isobar/isobar.toml:ro"))
        .expect("compose mounts a config file");
    let file = deploy().join(mount.split(':').next().expect("source"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let config = Config::from_toml(&text, &file).expect("compose config parses");
    config.validate().expect("compose config is valid");
    assert!(config.auth.enabled && !config.auth.tokens.is_empty(), "0.0.0.0 needs authentication on");
}

#[test]
fn dockerfile_is_multi_stage_non_root_with_a_real_health_check() {
    let text = std::fs::read_to_string(deploy().join("Dockerfile")).expect("deploy/Dockerfile");
    // Join continuation lines, drop comments.
    let joined = text.replace("\\\n", " ");
    let lines: Vec<&str> = joined.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let froms: Vec<&str> = lines.iter().filter(|l| l.starts_with("FROM ")).copied().collect();
    assert_eq!(froms.len(), 2, "builder and runtime stages: {froms:?}");
    assert!(froms[0].starts_with("FROM rust:") && froms[0].ends_with(" AS builder"));
    assert!(froms[1].contains("debian") && froms[1].contains("slim"));
    assert!(lines.iter().any(|l| l.contains("cargo build --release --locked")));
    let user = lines.iter().find(|l| l.starts_with("USER ")).expect("a USER line");
    assert!(!user.contains("root") && !user.ends_with(" 0"), "{user}");
    assert!(lines.iter().any(|l| l.starts_with("VOLUME") && l.contains("/var/lib/isobar")));
    let expose = lines.iter().find(|l| l.starts_with("EXPOSE")).expect("EXPOSE");
    assert!(expose.contains("50051") && expose.contains("9470"), "{expose}");
    let health = lines.iter().find(|l| l.starts_with("HEALTHCHECK")).expect("HEALTHCHECK");
    let json = &health[health.find("CMD [").expect("exec-form CMD") + 4..];
    let command: Vec<String> = serde_yaml_ng::from_str(json).expect("CMD is a JSON array");
    assert_real_invocation(&command);
    let config_env = lines.iter().find_map(|l| l.split_whitespace().find_map(|p| p.strip_prefix("ISOBAR_CONFIG=")));
    assert_eq!(flag(&command, "--config"), config_env, "the health check reads the config `serve` runs with");
    // The runtime environment names real config keys: the loader accepts them.
    for line in lines.iter().filter(|l| l.starts_with("ENV ")) {
        for pair in line["ENV ".len()..].split_whitespace() {
            let (key, value) = pair.split_once('=').expect("KEY=value");
            assert!(key.starts_with("ISOBAR_"), "{key}");
            assert!(!value.is_empty());
        }
    }
}

#[test]
fn systemd_unit_is_hardened_and_starts_a_real_serve() {
    let text = std::fs::read_to_string(deploy().join("systemd/isobar.service")).expect("unit");
    let keys: BTreeMap<&str, &str> =
        text.lines().filter(|l| !l.starts_with('#') && l.contains('=')).filter_map(|l| l.split_once('=')).collect();
    for key in [
        "NoNewPrivileges",
        "ProtectSystem",
        "ReadWritePaths",
        "PrivateTmp",
        "ProtectHome",
        "CapabilityBoundingSet",
        "LimitNOFILE",
        "Restart",
        "TimeoutStopSec",
    ] {
        assert!(keys.contains_key(key), "isobar.service lacks {key}=");
    }
    assert_eq!(keys["ProtectSystem"], "strict");
    assert_eq!(keys["CapabilityBoundingSet"], "");
    assert_eq!(keys["Restart"], "on-failure");
    assert!(keys.contains_key("DynamicUser") || keys.contains_key("User"), "not root");
    let config = Config::from_toml(
        &std::fs::read_to_string(deploy().join("isobar.toml")).expect("example config"),
        Path::new("deploy/isobar.toml"),
    )
    .expect("deploy/isobar.toml parses");
    let stop: u64 = keys["TimeoutStopSec"].trim_end_matches('s').parse().expect("seconds");
    let stop_budget = (config.server.shutdown_timeout.0 + config.server.shutdown_flush_timeout.0).as_secs();
    assert!(stop > stop_budget, "TimeoutStopSec must exceed shutdown_timeout + shutdown_flush_timeout");

    // ExecStart, with the example config in place of /etc/isobar/isobar.toml, prints the config
    // it would serve with: every flag is real and the data directory is the state directory.
    let exec: Vec<&str> = keys["ExecStart"].split_whitespace().collect();
    assert!(exec[0].ends_with("/isobar") && exec[1] == "serve", "{exec:?}");
    let example = deploy().join("isobar.toml");
    let args: Vec<&str> = exec[2..]
        .iter()
        .map(|a| if *a == "/etc/isobar/isobar.toml" { example.to_str().expect("utf8") } else { a })
        .collect();
    let out = Command::new(BIN).arg("serve").args(&args).arg("--print-config").output().expect("runs");
    assert!(out.status.success(), "ExecStart flags: {}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("data_dir = \"/var/lib/isobar\""), "{printed}");
    assert!(keys["ReadWritePaths"].contains("/var/lib/isobar"));
}

/// `key=value` lines of a systemd unit (the last value of a repeated key wins).
fn unit_keys(text: &str) -> BTreeMap<&str, &str> {
    text.lines().filter(|l| !l.starts_with('#') && l.contains('=')).filter_map(|l| l.split_once('=')).collect()
}

#[test]
fn the_agent_unit_is_hardened_and_runs_a_real_agent_with_its_queue_in_the_state_directory() {
    let text = std::fs::read_to_string(deploy().join("systemd/isobar-agent.service")).expect("agent unit");
    let keys = unit_keys(&text);
    for key in
        ["NoNewPrivileges", "ProtectSystem", "ReadWritePaths", "CapabilityBoundingSet", "Restart", "StateDirectory"]
    {
        assert!(keys.contains_key(key), "isobar-agent.service lacks {key}=");
    }
    assert_eq!(keys["ProtectSystem"], "strict");
    assert!(keys.contains_key("DynamicUser") || keys.contains_key("User"), "not root");
    let exec: Vec<String> = keys["ExecStart"].split_whitespace().map(str::to_owned).collect();
    assert!(exec[0].ends_with("/isobar"), "{exec:?}");
    let mut command = vec!["isobar".to_owned()];
    command.extend(exec[1..].iter().cloned());
    assert_eq!(command.get(1..3), Some(&["agent".to_owned(), "run".to_owned()][..]), "{command:?}");
    assert_real_invocation(&command);
    // The unit's install line puts deploy/agent.toml at the --config path; it loads.
    assert!(text.contains(&format!("deploy/agent.toml {}", flag(&command, "--config").expect("--config"))));
    let agent = isobar_agent::config::AgentConfig::load(&deploy().join("agent.toml")).expect("deploy/agent.toml");
    assert!(agent.source.len() > 1, "the example lists the source kinds");
    let state = Path::new("/var/lib").join(keys["StateDirectory"]);
    assert!(keys["ReadWritePaths"].contains(state.to_str().expect("utf8")), "the queue directory is writable");
    assert!(text.contains(&format!("dir = \"{}\"", state.display())), "the install note sets [queue] dir");
}

#[test]
fn compose_runs_the_agent_from_the_image_with_its_queue_on_a_volume() {
    let docs = yaml_documents();
    let compose = &docs.get(&deploy().join("compose.yaml")).expect("deploy/compose.yaml")[0];
    let agent = &compose["services"]["agent"];
    assert_eq!(agent["image"], compose["services"]["isobar"]["image"], "the same image");
    let command = command_of(agent);
    assert_eq!(command.get(1..3), Some(&["agent".to_owned(), "run".to_owned()][..]), "{command:?}");
    assert_real_invocation(&command);
    let volumes = strings(&agent["volumes"]);
    let config_path = flag(&command, "--config").expect("--config");
    let mount = volumes.iter().find(|v| v.ends_with(&format!(":{config_path}:ro"))).expect("the config is mounted");
    let file = deploy().join(mount.split(':').next().expect("source"));
    let config = isobar_agent::config::AgentConfig::load(&file).expect("the agent's compose config loads");
    let queue = config.queue.dir.to_str().expect("utf8").to_owned();
    assert!(volumes.iter().any(|v| v.ends_with(&format!(":{queue}"))), "the queue {queue} is on a volume: {volumes:?}");
    assert!(config.server.url.contains("//isobar:"), "sends to the isobar service: {}", config.server.url);
    assert!(compose["volumes"].as_mapping().expect("volumes").contains_key("agent-queue"));
}

#[test]
fn the_kubernetes_agent_example_runs_a_real_agent_with_its_queue_on_a_claim() {
    let docs = yaml_documents();
    let objects = docs.get(&deploy().join("k8s/agent/agent.yaml")).expect("deploy/k8s/agent/agent.yaml");
    let kind = |k: &str| objects.iter().find(|d| d["kind"].as_str() == Some(k)).unwrap_or_else(|| panic!("no {k}"));
    let toml = kind("ConfigMap")["data"]["agent.toml"].as_str().expect("agent.toml in the ConfigMap");
    let config = isobar_agent::config::AgentConfig::parse(toml).expect("the embedded agent config loads");
    let pod = &kind("Deployment")["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let c = &pod["containers"][0];
    let mut command = vec!["isobar".to_owned()];
    command.extend(strings(&c["args"]));
    assert_eq!(command.get(1..3), Some(&["agent".to_owned(), "run".to_owned()][..]), "{command:?}");
    assert_real_invocation(&command);
    let mounts = c["volumeMounts"].as_sequence().expect("mounts");
    let mounted = |path: &str| mounts.iter().find(|m| m["mountPath"].as_str() == Some(path)).map(|m| m["name"].clone());
    let config_dir = Path::new(flag(&command, "--config").expect("--config")).parent().expect("dir").to_owned();
    assert!(mounted(config_dir.to_str().expect("utf8")).is_some(), "the ConfigMap is mounted at {config_dir:?}");
    let queue = mounted(config.queue.dir.to_str().expect("utf8")).expect("the queue directory is a volume");
    let volume = pod["volumes"].as_sequence().expect("volumes").iter().find(|v| v["name"] == queue).expect("volume");
    assert_eq!(volume["persistentVolumeClaim"]["claimName"], kind("PersistentVolumeClaim")["metadata"]["name"]);
    let env: Vec<&str> = c["env"].as_sequence().expect("env").iter().filter_map(|e| e["name"].as_str()).collect();
    assert!(env.contains(&config.server.token_env.as_str()), "the token variable {} is set", config.server.token_env);
    let claim = quantity(&kind("PersistentVolumeClaim")["spec"]["resources"]["requests"]["storage"]);
    assert!(claim > config.queue.max_bytes, "the claim holds the queue's bound");
}
