#!/usr/bin/env bash
# Runs Isobar's whole test suite on a fresh machine. Needs only cargo and python3 (both on the
# standard development image); installs everything else it needs by itself:
#   - a Python virtual environment in .venv with the interoperability-test packages
#     (pyarrow, duckdb, grpcio-tools, ...), from scripts/requirements-test.txt;
# then checks formatting and lints, and runs every Rust test with cargo-nextest (falling back to
# cargo test when nextest is not installed). The output ends with the runner's summary.
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

step "MQTT broker for the agent test (Debian mosquitto)"
if ! command -v mosquitto >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto mosquitto-clients >/dev/null
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --profile ci --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
