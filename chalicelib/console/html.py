"""Small HTML builders for the server-rendered console: every value is escaped here."""
from __future__ import annotations

import datetime
import html
import json
from typing import Iterable
from urllib.parse import urlencode

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#16191f;background:#f2f3f3}
header{background:#232f3e;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}
header a{color:#fff;text-decoration:none}header .who{margin-left:auto;opacity:.8}
main{padding:16px 24px;max-width:1200px}
h1{font-size:22px;margin:8px 0 12px}h2{font-size:17px;margin:22px 0 8px}
section{background:#fff;border:1px solid #d5dbdb;border-radius:6px;padding:12px 16px;margin:12px 0}
table{border-collapse:collapse;width:100%;margin:4px 0}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeded;vertical-align:top}
th{background:#fafafa;font-weight:600}
code,pre{font:12px ui-monospace,monospace}pre{white-space:pre-wrap;background:#fafafa;padding:8px}
.status{padding:1px 6px;border-radius:8px;font-size:12px;background:#eaeded}
.ACTIVE{background:#d1f2d3}.FAILED{background:#fddede}.PROGRESS{background:#fff3cd}
.explore{background:#fff3cd}.muted{color:#687078}.error{color:#b0081e}
form.inline label{margin-right:10px}input,select{font:inherit;padding:2px 4px}
svg text{font:11px system-ui,sans-serif}
"""


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def when(value) -> str:
    """Personalize timestamps (epoch seconds or datetimes) as UTC text."""
    if isinstance(value, (int, float)):
        value = datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return esc(value)


def status(value: str | None) -> str:
    css = "ACTIVE" if value == "ACTIVE" else "FAILED" if value and "FAILED" in value \
        else "PROGRESS" if value and ("PENDING" in value or "PROGRESS" in value) else ""
    return f'<span class="status {css}">{esc(value)}</span>'


def link(path: str, text, **query) -> str:
    query = {k: v for k, v in query.items() if v is not None}
    target = path + ("?" + urlencode(query) if query else "")
    return f'<a href="{esc(target)}">{esc(text)}</a>'


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], css: str = "",
          row_classes: Iterable[str] | None = None) -> str:
    """Cells are HTML already (escape values with esc() or use link()/status())."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    classes = list(row_classes) if row_classes is not None else None
    body = []
    for k, row in enumerate(rows):
        attr = f' class="{esc(classes[k])}"' if classes and classes[k] else ""
        body.append(f"<tr{attr}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    if not body:
        body = [f'<tr><td class="muted" colspan="99">none</td></tr>']
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>' \
        + "".join(body) + "</tbody></table>"


def pretty_json(value) -> str:
    return f"<pre>{esc(json.dumps(value, indent=2, sort_keys=True, default=str))}</pre>"


def page(title: str, body: str, who: str = "", refresh: float | None = None) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh:g}">' if refresh else ""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{meta}'
            f"<title>{esc(title)} · Personalize console</title><style>{STYLE}</style>"
            f'</head><body><header><a href="/console"><b>Personalize</b> console</a>'
            f'<span class="who">{who}</span></header><main><h1>{esc(title)}</h1>{body}'
            "</main></body></html>")
