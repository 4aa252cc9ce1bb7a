#!/usr/bin/env bash
# Run the whole test suite (style check included) against real peers installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
