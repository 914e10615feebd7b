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

MAX_BYTES = uploads.MAX_DOWNLOAD


class FileError(ValueError):
    """Raised with a bilingual reason; bot.data.parse turns it into its ParseError."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


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
                    raise FileError(f"「{name}」不是文本表格（CSV）或 Excel 文件",
                                    f"\"{name}\" is not a text table (CSV) or an Excel file")
                uploads.tick()
            decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    raise FileError(f"无法识别「{name}」的文字编码，请另存为 UTF-8 的 CSV 或 xlsx",
                    f"Cannot detect the text encoding of \"{name}\"; save it as UTF-8 CSV or xlsx")


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
        raise FileError(f"无法打开 Excel 文件「{name}」：文件损坏或不是 xlsx",
                        f"Cannot open the Excel file \"{name}\": damaged or not an xlsx") from exc
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
        raise FileError(refused.zh, refused.en)
    if not data.strip():
        raise FileError(f"文件「{name}」是空的", f"\"{name}\" is empty")
    if uploads.is_zip(data):
        yield from _xlsx_sheets(data, name)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileError(f"「{name}」是旧版 Excel（.xls），请另存为 .xlsx 或 CSV 后再上传",
                        f"\"{name}\" is an old Excel file (.xls); save it as .xlsx or CSV and retry")
    elif ext in ("xlsx", "xlsm"):
        raise FileError(f"无法打开 Excel 文件「{name}」：文件损坏或不是 xlsx",
                        f"Cannot open the Excel file \"{name}\": damaged or not an xlsx")
    elif ext not in ("csv", "tsv", "txt", ""):
        raise FileError(f"不支持「{name}」的格式，请上传罗盘导出的 CSV 或 xlsx",
                        f"Unsupported file \"{name}\": upload a Compass export as CSV or xlsx")
    else:
        yield None, _csv_rows(data, name)
