#!/usr/bin/env bash
# The project's test command: starts the services the tests need, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
exec cargo test --all-targets "$@"
