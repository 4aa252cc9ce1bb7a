#!/usr/bin/env bash
# Run the service with the built-in demo configuration (simulated devices), and its web UI on
# http://127.0.0.1:8080 (logins: staff / demo-staff, technician / demo-tech, volunteer / demo-vol).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
.venv/bin/edge --config config/demo.toml web &
web=$!
trap 'kill $web 2>/dev/null; wait $web 2>/dev/null' EXIT
.venv/bin/edge --config config/demo.toml run "$@"
