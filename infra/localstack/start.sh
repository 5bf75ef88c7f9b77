#!/usr/bin/env bash
# Start LocalStack in host mode (no Docker) from .localstack-venv, with Personalize inside
# (our provider plugin; `make localstack` installs both):
#   infra/localstack/start.sh [PORT] [DATA_DIR]
# Waits until /_localstack/health reports s3 available (polling, no fixed sleep), then
# prints LocalStack's pid on stdout and writes it to DATA_DIR/localstack.pid.
# Log: DATA_DIR/localstack.log. Stop with infra/localstack/stop.sh PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${1:-4566}
DATA=${2:-$(mktemp -d "${TMPDIR:-/tmp}/localstack.XXXXXX")}
TIMEOUT=${LOCALSTACK_START_TIMEOUT:-240}
PY=.localstack-venv/bin/python
[ -x "$PY" ] || { echo "LocalStack is not installed: run make localstack" >&2; exit 1; }
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
SERVICES=${SERVICES:-s3,events,scheduler,secretsmanager,sts,iam,personalize,personalize-runtime,personalize-events}
GATEWAY_LISTEN=127.0.0.1:$PORT SERVICES=$SERVICES PERSONALIZE_DATA_DIR="$DATA/personalize" \
  LOCALSTACK_VOLUME_DIR="$DATA/volume" FILESYSTEM_ROOT="$DATA/fs" \
  DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 \
  setsid "$PY" -m localstack.runtime.main </dev/null >"$DATA/localstack.log" 2>&1 &
PID=$!
echo "$PID" >"$DATA/localstack.pid"
# Poll the health endpoint (with LocalStack's own Python: no curl needed).
if "$PY" - "$PORT" "$PID" "$TIMEOUT" <<'PYEOF'
import json, os, sys, time, urllib.request
port, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("LocalStack exited during start-up")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_localstack/health", timeout=2) as r:
            if json.load(r).get("services", {}).get("s3") in ("available", "running"):
                sys.exit(0)
    except (OSError, ValueError):
        pass
    time.sleep(0.2)
sys.exit(f"LocalStack not ready within {timeout:.0f} s")
PYEOF
then
  echo "$PID"
else
  tail -20 "$DATA/localstack.log" >&2
  bash infra/localstack/stop.sh "$PID"
  exit 1
fi
