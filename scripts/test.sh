#!/usr/bin/env bash
# Runs Isobar's whole test suite on a fresh machine. Needs only cargo and python3 (both on the
# standard development image); installs everything else it needs by itself:
#   - a Python virtual environment in .venv with the interoperability-test packages
#     (pyarrow, duckdb, grpcio-tools, ...), from scripts/requirements-test.txt;
#   - Debian's mosquitto (the agent's end-to-end test needs a real MQTT broker), curl (the
#     line-protocol TLS test's client), script (the CLI's terminal test), prometheus (its
#     promtool checks a real scrape and the shipped alert rules) and postgresql-client (psql,
#     the PostgreSQL front end's terminal-client test), when missing;
#   - cargo-nextest, when it is not installed;
# then checks formatting and lints, runs the doctests (cargo test --doc: nextest cannot run them),
# and runs every other Rust test with cargo-nextest (profile `ci`, with its per-test timeouts).
# The output ends with nextest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Python environment for interoperability tests (.venv)"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import sys; sys.exit(0)' 2>/dev/null; then
  rm -rf .venv && python3 -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(sha256sum scripts/requirements-test.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
  echo "$want" > "$stamp"
fi
export ISOBAR_TEST_PYTHON="$PWD/.venv/bin/python"

step "Debian packages the tests use: mosquitto (MQTT broker), curl (TLS client), script (a terminal), promtool, psql"
missing=()
command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto mosquitto-clients)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v script >/dev/null 2>&1 || missing+=(bsdutils)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo-nextest (the test runner; installed when missing)"
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi

step "doctests (nextest does not run them)"
cargo test --workspace --doc --quiet

step "tests"
cargo nextest run --workspace --profile ci --no-fail-fast
