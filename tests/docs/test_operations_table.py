"""docs/OPERATIONS.md stays what tools/operations_table.py generates, and every operation
of the three services has a provider method."""
import importlib.util
from pathlib import Path

from chalicelib.wire.service_models import SERVICES

_PATH = Path(__file__).resolve().parents[2] / "tools" / "operations_table.py"
_spec = importlib.util.spec_from_file_location("operations_table", _PATH)
table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(table)


def test_every_operation_is_implemented():
    missing = [(s, n) for s in SERVICES for n, status, _, _ in table.rows(s)
               if status != "implemented"]
    assert missing == []


def test_table_is_current():
    assert table.main(["--check"]) == 0, "run .venv/bin/python tools/operations_table.py"
