#!/usr/bin/env bash
# Stop LocalStack by its process id only: stop.sh PID
set -euo pipefail
kill "$1" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || exit 0; sleep 0.1; done
kill -9 "$1" 2>/dev/null || true
