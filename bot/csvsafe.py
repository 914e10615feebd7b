"""The one CSV writer for every export (schedule, stream data, compliance records).

    data = csvsafe.to_bytes(["场次", "主题"], [[12, "=HYPERLINK(...)"]])   # UTF-8 with BOM, CRLF

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading ``'`` so that Excel, WPS or Sheets show it as text instead of running it as a
formula (CSV injection, OWASP "CSV Injection"). Numbers are written as numbers; ``None`` is an
empty cell. The BOM makes Excel read the Chinese as UTF-8.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value as it goes into the file: numbers as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_bytes(header: Iterable[Any], rows: Iterable[Iterable[Any]], *, bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")
