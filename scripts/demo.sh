#!/usr/bin/env bash
# Run the service with the built-in demo configuration (simulated devices).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
exec .venv/bin/edge --config config/demo.toml run "$@"
