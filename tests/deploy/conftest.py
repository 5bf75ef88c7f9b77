"""Fixtures for the deployment tests: the Chalice app on a temporary SQLite data folder.
`localstack` and `moto_server` come from tests/support/services.py (tests/conftest.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def chalice_app(tmp_path, monkeypatch):
    """app.py with a fresh gateway whose state lives under tmp_path (the `local` stage's
    PERSONALIZE_DATA_DIR is relative: it resolves inside the test's own folder)."""
    import app as app_module
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERSONALIZE_SETTLE_SECONDS", "0")
    monkeypatch.setattr(app_module, "_built", None)
    yield app_module
    app_module._built = None


@pytest.fixture
def local_client(chalice_app):
    from chalice.test import Client
    with Client(chalice_app.app, stage_name="local", project_dir=str(ROOT)) as client:
        yield client
