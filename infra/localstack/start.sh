#!/usr/bin/env bash
# Start LocalStack in host mode: start.sh [PORT] [DATA_DIR]; prints its pid when S3 is ready.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${1:-4566}
DATA=${2:-$(mktemp -d)}
mkdir -p "$DATA"
GATEWAY_LISTEN=127.0.0.1:$PORT SERVICES=s3,events,scheduler,sts,iam \
  LOCALSTACK_VOLUME_DIR="$DATA/volume" FILESYSTEM_ROOT="$DATA/fs" \
  nohup .localstack-venv/bin/python -m localstack.runtime.main > "$DATA/localstack.log" 2>&1 &
PID=$!
for _ in $(seq 1 600); do
  if curl -sf "http://127.0.0.1:$PORT/_localstack/health" | grep -q '"s3": "\(available\|running\)"'; then
    echo "$PID"; exit 0
  fi
  kill -0 "$PID" 2>/dev/null || { tail -20 "$DATA/localstack.log" >&2; exit 1; }
  sleep 0.2
done
echo "LocalStack did not become ready" >&2; kill "$PID"; exit 1
