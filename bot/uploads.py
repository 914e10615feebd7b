"""Uploaded files are bounded before they are parsed, and parsed off the event loop.

Every reader of an upload (data exports: bot.data.parse, booking sheets: bot.schedule.importer,
scripts: bot.compliance.extract) goes through the same gates:

- size at download: bot.feishu.platform.Platform.download streams the body and stops at
  ``MAX_DOWNLOAD`` bytes (a larger file is refused before it is held in memory);
- an OOXML package (xlsx, docx) is inspected from its zip central directory before any entry
  is inflated: ``check_package`` refuses more than ``MAX_ENTRIES`` entries, more than
  ``MAX_UNZIPPED`` bytes once inflated, an entry inflating more than ``MAX_RATIO`` times its
  packed size (a zip bomb), and XML parts that declare a DOCTYPE (entity expansion).
  Python's zipfile never inflates an entry past the size the central directory declares, so
  the declared sizes are a real bound;
- rows and columns: readers stop at their row cap and read at most ``MAX_COLUMNS`` columns
  (a sheet whose dimension reaches column XFD would otherwise be padded to 16,384 cells a row);
- time: ``run_bounded`` runs the parse in a small thread pool (never on the event loop) with a
  time budget; the parse loops call ``tick()``, which raises ``TooSlow`` once the budget is
  spent, and the caller stops waiting at the same moment.

``Refused`` carries an i18n key (bot/i18n/*/errors.py), read in the chat's language.
"""
from __future__ import annotations

import asyncio
import contextvars
import io
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Callable, TypeVar

from bot.errors import LocalizedError, UserError

MAX_DOWNLOAD = 20 * 1024 * 1024      # bytes of an upload, checked while downloading
MAX_UNZIPPED = 40 * 1024 * 1024      # bytes of an xlsx/docx once inflated, all entries together
MAX_ENTRIES = 500                    # entries in an xlsx/docx (a real one has 10-60)
MAX_RATIO = 200                      # inflated / packed, for entries over RATIO_FLOOR bytes
RATIO_FLOOR = 1024 * 1024
MAX_COLUMNS = 256                    # columns read from a sheet
BUDGET = 15.0                        # seconds of parsing per upload
WORKERS = 2                          # parses at the same time (the rest wait their turn)

_EXECUTOR = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="upload-parse")
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("upload_deadline", default=None)
T = TypeVar("T")


class Refused(LocalizedError, ValueError):
    """An upload refused before or while parsing (an i18n key: bot/i18n/*/errors.py).
    ``str(err)`` is "中文 / English"."""

    def message(self, locale: str = "zh_CN") -> str:
        return self.text(locale)


class TooSlow(Refused):
    pass


def mb(n: int) -> str:
    return f"{n // (1024 * 1024)} MB"


def too_large(name: str, limit: int = MAX_DOWNLOAD) -> Refused:
    return Refused("uploads.err.too_large", name=name, size=mb(limit))


def too_slow(name: str) -> TooSlow:
    return TooSlow("uploads.err.too_slow", name=name, seconds=f"{BUDGET:.0f}")


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def check_package(data: bytes, name: str, *, max_unzipped: int = MAX_UNZIPPED, max_entries: int = MAX_ENTRIES,
                  max_ratio: int = MAX_RATIO) -> None:
    """Refuse a zip package (xlsx, docx) that would cost too much to open: read from the central
    directory only (no entry is inflated), then the first bytes of each XML part."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            infos = package.infolist()
            if len(infos) > max_entries:
                raise Refused("uploads.err.parts", name=name, parts=len(infos), limit=max_entries)
            total = 0
            for info in infos:
                total += info.file_size
                packed = max(info.compress_size, 1)
                if info.file_size > RATIO_FLOOR and info.file_size / packed > max_ratio:
                    raise Refused("uploads.err.zip_bomb", name=name, ratio=info.file_size // packed)
            if total > max_unzipped:
                raise Refused("uploads.err.unzipped", name=name, size=mb(max_unzipped))
            for info in infos:
                if info.filename.lower().endswith((".xml", ".rels")) and info.file_size:
                    with package.open(info) as part:
                        head = part.read(4096)
                    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                        raise Refused("uploads.err.doctype", name=name)
    except zipfile.BadZipFile:
        return  # not a readable package: the reader says so in its own words
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise Refused("uploads.err.compression", name=name) from exc


def tick() -> None:
    """Called by parse loops: raises ``TooSlow`` once the current budget is spent."""
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise TooSlow("uploads.err.slow")


async def run_bounded(fn: Callable[..., T], *args: Any, name: str = "?", budget: float | None = None,
                      **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in the parse pool with a time budget. Raises what ``fn`` raises,
    or ``TooSlow`` (bilingual, naming ``name``) when the budget is spent."""
    seconds = BUDGET if budget is None else budget
    loop = asyncio.get_running_loop()

    def call() -> T:
        _DEADLINE.set(time.monotonic() + seconds)  # starts when a worker picks it up
        return fn(*args, **kwargs)

    context = contextvars.copy_context()
    future = loop.run_in_executor(_EXECUTOR, partial(context.run, call))
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout=seconds * 2 + 5)
    except TooSlow:
        raise too_slow(name) from None
    except asyncio.TimeoutError:
        raise too_slow(name) from None


class DownloadTooLarge(UserError):
    """The download stopped at the size cap: answered as "upload.too_large" in the chat's language."""

    def __init__(self, limit: int) -> None:
        super().__init__("upload.too_large", limit=mb(limit))

