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
else
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
fi
# Personalize inside LocalStack: our provider plugin (infra/localstack/plugin), reinstalled
# when its files or this checkout's location change (the sidecar runs this checkout's .venv).
PLUGIN=infra/localstack/plugin
PLUGIN_STAMP=$VENV/.personalize-plugin
WANT="$(pwd) $(cat "$PLUGIN"/pyproject.toml "$PLUGIN"/personalize_localstack/*.py | sha1sum)"
if [ -f "$PLUGIN_STAMP" ] && [ "$(cat "$PLUGIN_STAMP")" = "$WANT" ]; then
  echo "Personalize plugin already installed in $VENV"
  exit 0
fi
# built with the venv's own setuptools (no build isolation; a venv of Python 3.13 has
# none until asked); setuptools' scratch folders go (a stale build/lib would ship deleted
# modules)
"$VENV/bin/python" -c "import setuptools" 2>/dev/null \
  || "$VENV/bin/python" -m pip install -q "setuptools>=64"
rm -rf "$PLUGIN/build" "$PLUGIN"/*.egg-info
"$VENV/bin/python" -m pip install -q --no-build-isolation --no-deps --force-reinstall "./$PLUGIN" \
  2>&1 | grep -v "does not follow recommended pattern" || true
rm -rf "$PLUGIN/build" "$PLUGIN"/*.egg-info
"$VENV/bin/python" -c "import personalize_localstack.providers"
echo "$WANT" >"$PLUGIN_STAMP"
echo "Personalize plugin installed in $VENV"
