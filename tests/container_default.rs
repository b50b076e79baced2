//! The container image's default command on an empty volume starts into a safe state, without
//! Docker: the `ENTRYPOINT` + `CMD` and `ENV` of deploy/Dockerfile are parsed out of the file and
//! run with the binary, the config the image copies to `/etc/isobar/isobar.toml` and an empty
//! temporary directory as the volume.
//!
//! - With the image's environment as is (listen `0.0.0.0:50051`), the configuration passes the
//!   `serve` exposure check: authentication is on (a bootstrap token will exist).
//! - Run for real (on loopback, as every test server here: the only change to the environment is
//!   the listen addresses), the server starts, writes a generated admin token to
//!   `<volume>/admin.token` with mode 0600, logs that path but never the secret, refuses calls
//!   without it and serves calls with it; a restart keeps the same token.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use isobar::config::Config;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the image runs: its arguments (ENTRYPOINT then CMD, without the program), its
/// environment, and the host file copied to each image path.
struct Image {
    args: Vec<String>,
    env: Vec<(String, String)>,
    copies: Vec<(String, PathBuf)>,
}

fn image() -> Image {
    let text = std::fs::read_to_string(repo().join("deploy/Dockerfile")).expect("Dockerfile").replace("\\\n", " ");
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let json = |prefix: &str| -> Vec<String> {
        let line = lines.iter().rev().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix}"));
        serde_yaml_ng::from_str(line[prefix.len()..].trim()).expect("exec form")
    };
    let entrypoint = json("ENTRYPOINT ");
    assert_eq!(entrypoint, ["isobar"], "the entrypoint is the binary");
    let env = lines
        .iter()
        .filter_map(|l| l.strip_prefix("ENV "))
        .flat_map(str::split_whitespace)
        .filter_map(|pair| pair.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let copies = lines
        .iter()
        .filter_map(|l| l.strip_prefix("COPY "))
        .filter(|l| !l.starts_with("--from"))
        .filter_map(|l| l.split_once(' ').map(|(src, dst)| (dst.trim().to_owned(), repo().join(src))))
        .collect();
    Image { args: json("CMD "), env, copies }
}

impl Image {
    fn env(&self, key: &str) -> &str {
        self.env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no ENV {key}"))
    }

    /// The host file behind an image path (a `COPY` of the Dockerfile).
    fn host_file(&self, image_path: &str) -> &Path {
        self.copies.iter().find(|(dst, _)| dst == image_path).map(|(_, src)| src.as_path()).expect("COPYed")
    }

    /// The environment with the config and volume paths mapped to host paths and the listen
    /// addresses replaced.
    fn host_env(&self, volume: &Path, listen: &str) -> Vec<(String, String)> {
        let data_dir = self.env("ISOBAR_SERVER_DATA_DIR").to_owned();
        self.env
            .iter()
            .map(|(k, v)| {
                let v = match k.as_str() {
                    "ISOBAR_CONFIG" => self.host_file(v).to_str().expect("utf8").to_owned(),
                    "ISOBAR_SERVER_LISTEN" => listen.to_owned(),
                    "ISOBAR_METRICS_LISTEN" => "127.0.0.1:0".to_owned(),
                    _ => v.replace(&data_dir, volume.to_str().expect("utf8")),
                };
                (k.clone(), v)
            })
            .collect()
    }
}

/// The server process; killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(image: &Image, volume: &Path, listen: &str, log: &Path) -> Server {
    let mut command = Command::new(BIN);
    command.args(&image.args).stdin(Stdio::null()).stdout(Stdio::null());
    command.stderr(std::fs::File::create(log).expect("log file"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("ISOBAR_")) {
        command.env_remove(key);
    }
    command.envs(image.host_env(volume, listen));
    let mut server = Server(command.spawn().expect("starts"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(listen).is_err() {
        if let Some(status) = server.0.try_wait().expect("wait") {
            panic!("the server exited with {status}: {}", std::fs::read_to_string(log).unwrap_or_default());
        }
        assert!(Instant::now() < deadline, "the server did not listen within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn cli(addr: &str, token_file: Option<&Path>, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(BIN);
    command.arg("--addr").arg(format!("http://{addr}")).env_remove("ISOBAR_TOKEN");
    if let Some(file) = token_file {
        command.arg("--token-file").arg(file);
    }
    command.args(args).output().expect("runs")
}

#[test]
fn the_images_environment_passes_the_exposure_check_with_auth_on() {
    let image = image();
    let config_file = image.host_file(image.env("ISOBAR_CONFIG"));
    let (config, warnings) =
        Config::load_with(Some(config_file), image.env.iter().cloned()).expect("the image's config loads");
    assert!(warnings.is_empty(), "every ENV names a key: {warnings:?}");
    assert!(config.auth.enabled, "0.0.0.0 needs authentication");
    assert!(!config.server.listen.ip().is_loopback());
    let exposure = isobar::cli::serve::exposure(config.server.listen, config.auth.enabled, config.tls.enabled(), false);
    assert!(exposure.is_ok(), "the default command must not exit: {exposure:?}");
}

#[test]
fn the_default_command_on_an_empty_volume_starts_safe_with_a_generated_token() {
    let image = image();
    let dir = tempfile::tempdir().expect("tempdir");
    let volume = dir.path().join("volume");
    std::fs::create_dir(&volume).expect("empty volume");
    let listen = isobar_testkit::server::free_addr().expect("port").to_string();
    let log = dir.path().join("server.log");
    let server = start(&image, &volume, &listen, &log);

    let token = volume.join("admin.token");
    let secret = std::fs::read_to_string(&token).expect("a generated token file in the volume");
    let secret = secret.trim();
    assert!(secret.len() >= 32, "a real secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "only the server's user may read it");
    }
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains(token.to_str().expect("utf8")), "the log names the file:\n{text}");
    assert!(!text.contains(secret), "the log must never show the secret:\n{text}");

    let refused = cli(&listen, None, &["table", "list"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("UNAUTHENTICATED"), "{stderr}");
    let served = cli(&listen, Some(&token), &["table", "list"]);
    assert!(served.status.success(), "{}", String::from_utf8_lossy(&served.stderr));
    drop(server);

    // A restart on the same volume keeps the token.
    let server = start(&image, &volume, &listen, &dir.path().join("server2.log"));
    assert_eq!(std::fs::read_to_string(&token).expect("still there").trim(), secret);
    let served = cli(&listen, Some(&token), &["table", "list"]);
    assert!(served.status.success(), "{}", String::from_utf8_lossy(&served.stderr));
    drop(server);
}
