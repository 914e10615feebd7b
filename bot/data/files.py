"""Bytes of an upload → (sheet, numbered rows) for bot.data.parse, bounded (see bot.uploads).

CSV (utf-8, utf-8-sig, gb18030, utf-16 with BOM; comma, tab or semicolon) and XLSX (every
sheet). An xlsx is inspected before it is opened (entries, inflated size, zip bombs); every
row is cut to ``uploads.MAX_COLUMNS`` cells, and each row read spends a little of the parse's
time budget (``uploads.tick``).
"""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import PurePath
from typing import Any, Iterator

from bot import uploads
from bot.errors import LocalizedError

MAX_BYTES = uploads.MAX_DOWNLOAD


class FileError(LocalizedError, ValueError):
    """Raised with an i18n reason (bot/i18n/*/errors.py); bot.data.parse turns it into its ParseError."""


def _encoding(data: bytes, name: str) -> str:
    """The text encoding, checked over the whole file in 1 MB steps (no full copy in memory)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    view = memoryview(data)
    for enc in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            for i in range(0, len(view), 1 << 20):
                if "\x00" in decoder.decode(view[i:i + (1 << 20)]):
                    raise FileError("data.err.not_table", name=name)
                uploads.tick()
            decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    raise FileError("data.err.encoding", name=name)


def _csv_rows(data: bytes, name: str) -> Iterator[tuple[int, list[str]]]:
    enc = _encoding(data, name)
    lines = data[:16384].decode(enc, errors="ignore").splitlines()[:20]
    delimiter = max((",", "\t", ";"), key=lambda d: max((line.count(d) for line in lines), default=0))
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=enc, errors="replace", newline="")
    cap = uploads.MAX_COLUMNS
    for number, row in enumerate(csv.reader(stream, delimiter=delimiter), 1):
        uploads.tick()
        yield number, row[:cap] if len(row) > cap else row


def _xlsx_sheets(data: bytes, name: str) -> Iterator[tuple[str, Iterator[tuple[int, tuple]]]]:
    import openpyxl

    uploads.check_package(data, name)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except uploads.Refused:
        raise
    except Exception as exc:   # openpyxl raises many types for damaged packages
        raise FileError("data.err.not_xlsx", name=name) from exc
    try:
        for ws in wb.worksheets:
            ws.reset_dimensions()   # some exporters write a wrong <dimension>; read every cell
            yield ws.title, _ticking(ws.iter_rows(min_row=1, max_col=uploads.MAX_COLUMNS, values_only=True))
    finally:
        wb.close()


def _ticking(rows: Iterator[tuple]) -> Iterator[tuple[int, tuple]]:
    for number, row in enumerate(rows, 1):
        uploads.tick()
        yield number, row


def sources(data: bytes, name: str) -> Iterator[tuple[str | None, Iterator[tuple[int, Any]]]]:
    """(sheet name or None for a CSV, (row number, cells) pairs) for each sheet of the file."""
    ext = PurePath(name).suffix.lower().lstrip(".")
    if len(data) > MAX_BYTES:
        refused = uploads.too_large(name, MAX_BYTES)
        raise FileError(refused.key, **refused.values)
    if not data.strip():
        raise FileError("data.err.empty_file", name=name)
    if uploads.is_zip(data):
        yield from _xlsx_sheets(data, name)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileError("data.err.old_xls", name=name)
    elif ext in ("xlsx", "xlsm"):
        raise FileError("data.err.not_xlsx", name=name)
    elif ext not in ("csv", "tsv", "txt", ""):
        raise FileError("data.err.unsupported", name=name)
    else:
        yield None, _csv_rows(data, name)
