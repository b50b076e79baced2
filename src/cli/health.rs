//! `isobar health`: the standard gRPC health check (`grpc.health.v1.Health/Check`), exiting 0
//! when the server answers `SERVING` and non-zero otherwise. Made for container health checks
//! and Kubernetes exec probes, where no other gRPC client is installed.

use std::time::Duration;

use clap::Args;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::CliError;

/// `isobar health`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Exits 0 when the server reports SERVING, 1 otherwise (not serving, unreachable, timed out).

Examples:
  isobar health
  isobar health --addr http://127.0.0.1:50051 --service isobar.v1.Ingest --timeout 3s")]
pub struct HealthArgs {
    /// The service to check; empty checks the server as a whole.
    #[arg(long, default_value = "")]
    pub service: String,
    /// Give up after this long (connect plus answer), e.g. 500ms, 3s.
    #[arg(long, default_value = "5s", value_parser = parse_timeout)]
    pub timeout: Duration,
}

/// Parses `500ms`, `3s` or a plain number of seconds.
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let parsed = if let Some(ms) = s.strip_suffix("ms") {
        ms.trim().parse::<u64>().map(Duration::from_millis)
    } else {
        s.strip_suffix('s').unwrap_or(s).trim().parse::<u64>().map(Duration::from_secs)
    };
    parsed.map_err(|_| format!("{s:?} is not a duration like 500ms or 3s"))
}

/// Checks the server at `addr`; Ok only when it is `SERVING`.
/// TLS settings come from the global `--tls-*` flags; the health service needs no token.
pub async fn run(args: &HealthArgs, addr: &str, options: &crate::client::ClientOptions) -> Result<(), CliError> {
    let check = async {
        let channel = options.channel(addr).await.map_err(|e| CliError::Unhealthy(e.to_string()))?;
        let mut client = HealthClient::new(channel);
        let request = HealthCheckRequest { service: args.service.clone() };
        let answer = client.check(request).await.map_err(|s| {
            CliError::Unhealthy(format!("{addr}: health check failed: {:?}: {}", s.code(), s.message()))
        })?;
        Ok::<_, CliError>(answer.into_inner().status())
    };
    let status = tokio::time::timeout(args.timeout, check)
        .await
        .map_err(|_| CliError::Unhealthy(format!("{addr}: no answer within {:?}", args.timeout)))??;
    let what = if args.service.is_empty() { "server" } else { args.service.as_str() };
    if status == ServingStatus::Serving {
        println!("{what} at {addr}: SERVING");
        Ok(())
    } else {
        Err(CliError::Unhealthy(format!("{what} at {addr}: {}", status.as_str_name())))
    }
}
