#!/usr/bin/env bash
# Deploy what a LocalStack without Docker can take: the artifact bucket and the
# two-hourly EventBridge rule (on LocalStack), and the state table (on DynamoDB: LocalStack's
# own with Docker, else a moto server). Idempotent: run it again, nothing changes.
#
#   infra/deploy_localstack.sh                                  # everything on :4566
#   DYNAMODB_ENDPOINT_URL=http://127.0.0.1:5000 infra/deploy_localstack.sh   # table on moto
#
# Lambda itself needs Docker in LocalStack; without it run the handlers with
# `chalice local --stage localstack` (same environment variables, see infra/README.md).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"
cd "$root"
exec "$python" -m infra.deploy_localstack "$@"
