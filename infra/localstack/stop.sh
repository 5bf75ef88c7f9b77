#!/usr/bin/env bash
# Stop LocalStack by its process id only (never by name): stop.sh PID
# SIGTERM, up to 30 s for a clean shutdown, then SIGKILL.
set -euo pipefail
PID=${1:?usage: stop.sh PID}
kill "$PID" 2>/dev/null || exit 0
for _ in $(seq 1 300); do kill -0 "$PID" 2>/dev/null || exit 0; sleep 0.1; done
kill -9 "$PID" 2>/dev/null || true
