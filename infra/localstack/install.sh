#!/usr/bin/env bash
# Install LocalStack's Python runtime into .localstack-venv (host mode, no Docker).
# It needs Python 3.13; the pins fix what its own requirements get wrong today.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.localstack-venv
PYTHON313=${PYTHON313:-/root/.pyenv/versions/3.13.0/bin/python}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import localstack" 2>/dev/null; then
  exit 0
fi
if [ ! -x "$PYTHON313" ]; then
  PYTHON313=$(command -v python3.13 || true)
fi
[ -n "$PYTHON313" ] || { echo "LocalStack needs Python 3.13 (set PYTHON313)" >&2; exit 1; }
"$PYTHON313" -m venv "$VENV"
"$VENV/bin/pip" install -q "localstack-core[runtime]==2026.3.0" "cbor2<5.7" \
  "pyopenssl==24.2.1" "cryptography==43.0.3" "service_identity<24.3"
