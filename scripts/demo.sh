#!/usr/bin/env bash
# Run the service with the built-in demo configuration (simulated devices), and its web UI on
# http://127.0.0.1:8080 (logins: staff / demo-staff, technician / demo-tech, volunteer / demo-vol).
# EDGE_CONFIG names another config (default config/demo.toml); arguments go to `edge run`.
# Stopping it (Ctrl-C, or `kill` of this script) stops both processes: none is left behind.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
config=${EDGE_CONFIG:-config/demo.toml}
pids=()
stop() {
    trap - INT TERM EXIT
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT
.venv/bin/edge --config "$config" web &
pids+=($!)
.venv/bin/edge --config "$config" run "$@" &
pids+=($!)
wait -n "${pids[@]}"  # a signal, or either process ending, ends the demo
