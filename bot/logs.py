"""Structured logs: plain lines for people, JSON lines for machines (BOT_LOG_JSON=true).

Context fields (event_id, chat_id, command, ref, key ...) come from ``extra=``. Secrets are
never passed to the logger; a filter also masks anything that looks like a token.
"""
from __future__ import annotations

import json
import logging
import re
import sys

FIELDS = ("event_id", "chat_id", "command", "ref", "key", "op", "code", "why", "open_id", "action",
          "delay", "timer", "worker")
_SECRET = re.compile(r"(t-[A-Za-z0-9_\-]{10,}|Bearer\s+\S+)")


def _extras(record: logging.LogRecord) -> dict:
    return {k: getattr(record, k) for k in FIELDS if hasattr(record, k)}


def _mask(text: str) -> str:
    return _SECRET.sub("***", text)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        return _mask(f"{base} {extra}" if extra else base)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
               "logger": record.name, "msg": record.getMessage(), **_extras(record)}
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return _mask(json.dumps(out, ensure_ascii=False, default=str))


def setup(level: str = "INFO", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else
                         PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "Lark", "httpx", "apscheduler", "alembic", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Repeated:
    """One log line per outage, not one per retry: the first failure with its traceback, then a
    one-line reminder at most once a minute, and "recovered" (with the count) when it works again.

        trouble = Repeated(log, "inbox claim failed")
        try: ...; trouble.ok()
        except Exception: trouble.failed()
    """

    EVERY = 60.0

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger, self.what = logger, what
        self.count = 0
        self.last = 0.0

    def failed(self) -> None:
        import time

        self.count += 1
        now = time.monotonic()
        if self.count == 1:
            self.logger.exception(self.what)
            self.last = now
        elif now - self.last >= self.EVERY:
            self.logger.warning(f"{self.what} (still failing, {self.count} times)")
            self.last = now

    def ok(self) -> None:
        if self.count:
            self.logger.warning(f"{self.what}: recovered after {self.count} failures")
            self.count = 0
