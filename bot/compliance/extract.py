"""Turn an uploaded script file (txt, md, docx, xlsx) into numbered text lines.

    lines = extract_lines(data, "618脚本.docx")
    text = to_text(lines)                  # one line per SourceLine, joined with "\\n"
    result = check(text)
    lines[hit.line - 1].label              # "第 12 段" / "Sheet1!B7" / "第 3 行"

A file that cannot be read raises ``ExtractError`` whose message is bilingual (zh / en), so
the bot can show it as is.

Uploads are bounded (bot.uploads): a docx/xlsx is inspected from its zip directory before it is
opened (entries, inflated size, zip bombs, DOCTYPE), sheets are read to ``uploads.MAX_COLUMNS``
columns, reading stops once the text passes ``MAX_CHARS``, and ``extract_lines_async`` reads in
the parse pool with a time budget.
"""
from __future__ import annotations

from dataclasses import dataclass
import io
from pathlib import PurePath
import zipfile

from bot import uploads
from bot.errors import LocalizedError

MAX_BYTES = 10 * 1024 * 1024     # uploads above this are refused
MAX_CHARS = 500_000              # text above this is refused (a script is far shorter)
MAX_ROWS = 100_000               # rows read from one sheet
SUPPORTED = ("txt", "md", "docx", "xlsx")


class ExtractError(LocalizedError, ValueError):
    """The file cannot be turned into text (an i18n key: bot/i18n/*/errors.py).
    ``str(err)`` is "中文 / English"."""

    def message(self, locale: str = "zh_CN") -> str:
        return self.text(locale)


@dataclass(frozen=True)
class SourceLine:
    number: int      # 1-based index in the returned list (= the line in ``to_text``)
    text: str
    label: str       # where it came from, for people: "第 3 行", "第 5 段", "Sheet1!B7"


def extension(filename: str) -> str:
    return PurePath(filename or "").suffix.lower().lstrip(".")


def extract_lines(data: bytes, filename: str) -> list[SourceLine]:
    """Read ``data`` according to ``filename``'s extension. Blank lines are kept for txt/md
    (so numbers match the editor) and skipped for docx paragraphs and xlsx rows."""
    ext = extension(filename)
    name = PurePath(filename or "").name or "?"
    if ext not in SUPPORTED:
        raise ExtractError("extract.err.unsupported", name=name)
    if len(data) > MAX_BYTES:
        raise ExtractError("extract.err.too_large", name=name, mb=MAX_BYTES // 1024 // 1024)
    if not data:
        raise ExtractError("extract.err.empty", name=name)
    if ext in ("docx", "xlsx") and uploads.is_zip(data):
        try:
            uploads.check_package(data, name)
        except uploads.Refused as exc:
            raise ExtractError(exc.key, **exc.values) from None
    if ext in ("txt", "md"):
        texts = _text_lines(data, name)
        lines = [SourceLine(i, t, f"第 {i} 行") for i, t in enumerate(texts, 1)]
    elif ext == "docx":
        lines = _number(_docx_lines(data, name))
    else:
        lines = _number(_xlsx_lines(data, name))
    if not any(line.text.strip() for line in lines):
        raise ExtractError("extract.err.no_text", name=name)
    if sum(len(line.text) + 1 for line in lines) > MAX_CHARS:
        raise ExtractError("extract.err.too_much_text", name=name, chars=MAX_CHARS)
    return lines


async def extract_lines_async(data: bytes, filename: str) -> list[SourceLine]:
    """``extract_lines`` off the event loop, with the upload time budget; a file that takes too
    long raises ``ExtractError`` like any other unreadable file."""
    name = PurePath(filename or "").name or "?"
    try:
        return await uploads.run_bounded(extract_lines, data, filename, name=name)
    except uploads.Refused as exc:
        raise ExtractError(exc.key, **exc.values) from None


def to_text(lines: list[SourceLine]) -> str:
    """Join lines so that line N of the text is ``lines[N - 1]`` (hit.line maps back)."""
    return "\n".join(line.text.replace("\n", " ").replace("\r", " ") for line in lines)


def extract_text(data: bytes, filename: str) -> str:
    return to_text(extract_lines(data, filename))


def _number(pairs: list[tuple[str, str]]) -> list[SourceLine]:
    return [SourceLine(i, text, label) for i, (text, label) in enumerate(pairs, 1)]


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ExtractError("extract.err.encoding", name=name)


def _text_lines(data: bytes, name: str) -> list[str]:
    if data[:4] == b"PK\x03\x04":
        raise ExtractError("extract.err.not_plain_text", name=name)
    text = _decode(data, name)
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _docx_lines(data: bytes, name: str) -> list[tuple[str, str]]:
    try:
        import docx  # python-docx
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ExtractError("extract.err.no_docx_reader") from exc
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExtractError("extract.err.bad_docx", name=name) from exc
    except Exception as exc:  # python-docx raises its own types for odd packages
        raise ExtractError("extract.err.cannot_open_docx", name=name) from exc
    out: list[tuple[str, str]] = []
    para_no = 0
    for para in document.paragraphs:
        para_no += 1
        uploads.tick()
        for part in para.text.splitlines() or [""]:
            if part.strip():
                out.append((part, f"第 {para_no} 段"))
    for t_no, table in enumerate(document.tables, 1):
        for r_no, row in enumerate(table.rows, 1):
            uploads.tick()
            seen: set[int] = set()
            for c_no, cell in enumerate(row.cells, 1):
                if id(cell._tc) in seen:  # merged cells repeat the same element
                    continue
                seen.add(id(cell._tc))
                for part in cell.text.splitlines():
                    if part.strip():
                        out.append((part, f"表格{t_no} 第{r_no}行第{c_no}列"))
    return out


def _column_name(n: int) -> str:
    name = ""
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


def _xlsx_lines(data: bytes, name: str) -> list[tuple[str, str]]:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ExtractError("extract.err.no_xlsx_reader") from exc
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExtractError("extract.err.bad_xlsx", name=name) from exc
    except Exception as exc:
        raise ExtractError("extract.err.cannot_open_xlsx", name=name) from exc
    out: list[tuple[str, str]] = []
    chars = 0
    try:
        for ws in wb.worksheets:
            for r_no, row in enumerate(ws.iter_rows(values_only=True, max_col=uploads.MAX_COLUMNS), 1):
                uploads.tick()
                for c_no, value in enumerate(row, 1):
                    if value is None or isinstance(value, bool):
                        continue
                    text = str(value)
                    for part in text.splitlines():
                        if part.strip():
                            out.append((part, f"{ws.title}!{_column_name(c_no)}{r_no}"))
                            chars += len(part) + 1
                if chars > MAX_CHARS:
                    return out  # extract_lines refuses it as too long
                if r_no > MAX_ROWS:
                    break
    finally:
        wb.close()
    return out
