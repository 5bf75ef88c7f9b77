#!/usr/bin/env bash
# Install LocalStack's Python runtime into .localstack-venv (host mode, no Docker).
# It needs Python 3.13; the pins fix what its own requirements get wrong today.
# Idempotent: skipped when the venv already holds exactly these pins.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.localstack-venv
PINS=("localstack-core[runtime]==2026.3.0" "cbor2<5.7" "pyopenssl==24.2.1"
      "cryptography==43.0.3" "service_identity<24.3")
STAMP=$VENV/.installed
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "${PINS[*]}" ] \
   && "$VENV/bin/python" -c "import localstack.runtime.main" 2>/dev/null; then
  echo "LocalStack already installed in $VENV"
  exit 0
fi
PYTHON313=${PYTHON313:-/root/.pyenv/versions/3.13.0/bin/python}
if [ ! -x "$PYTHON313" ]; then
  PYTHON313=$(command -v python3.13 || true)
fi
[ -n "$PYTHON313" ] || { echo "LocalStack needs Python 3.13 (set PYTHON313=/path/to/python3.13)" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || "$PYTHON313" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q "${PINS[@]}"
"$VENV/bin/python" -c "import localstack.runtime.main"
echo "${PINS[*]}" >"$STAMP"
echo "LocalStack installed in $VENV"
