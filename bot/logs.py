"""Structured logs: plain lines for people, JSON lines for machines (BOT_LOG_JSON=true).

Context fields travel with the work, not with each call: the HTTP edge binds ``request_id``,
the inbox worker ``event_id``, the timer engine ``timer`` and ``cause``, the sender the
outbox ``key`` (and the ``event_id`` or ``timer`` it came from). They live in a contextvar,
so every line logged while that work runs carries them, in this module's formatters::

    with logs.bound(event_id=row.event_id):
        ...                                  # every log line here has event_id
    await logs.bound_call(coro, timer=key)   # the same around one awaitable

One fault's story is then ``grep <event_id>``: the webhook's "event accepted" (with the
request_id), the handling, the commands, and each "sent" of the answers (outbox keys start
with ``evt:<event_id>``). Fields passed with ``extra=`` are added too (see FIELDS).

Secrets are never passed to the logger on purpose; the formatters also mask anything that
looks like an access token, a secret field, a password in a URL or a mobile number.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
from typing import Any, Awaitable, Iterator, TypeVar

T = TypeVar("T")

FIELDS = ("request_id", "event_id", "event_type", "source", "chat_id", "command", "ref", "key", "op", "code",
          "why", "open_id", "action", "delay", "timer", "kind", "cause", "worker", "late_s", "retry_in",
          "status", "path")
_CONTEXT: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("liveops_log_context", default={})  # noqa: B039 - never mutated: bind() sets a new dict

_SECRET_KEYS = (r"app_secret|appsecret|secret|encrypt_key|encrypt|verification_token|token|access_token|"
                r"tenant_access_token|app_access_token|user_access_token|refresh_token|password|authorization")
_MASKS = [
    # Feishu access tokens (t-/u-/a-...) and bearer credentials
    (re.compile(r"\b(?:t|u|a)-[A-Za-z0-9_\-.]{16,}"), "***"),
    (re.compile(r"(Bearer\s+)\S+", re.I), r"\1***"),
    # "token": "..." in JSON (also inside JSON text that was itself JSON-encoded)
    (re.compile(r'((?:\\?")(?:' + _SECRET_KEYS + r')(?:\\?")\s*:\s*\\?")(?:[^"\\]|\\.)*?(\\?")', re.I), r"\1***\2"),
    # token=... in query strings and key=value text
    (re.compile(r"\b((?:" + _SECRET_KEYS + r")=)[^&\s,;]+", re.I), r"\1***"),
    # user:password@ in connection URLs
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), r"\1***@"),
    # mainland mobile numbers, also written with spaces, dots or dashes: 138****8000
    (re.compile(r"(?<![\d.])(?:\+?86[\s-]?)?(1[3-9]\d)[\s.-]?\d{4}[\s.-]?(\d{4})(?![\d])"), r"\1****\2"),
]


def mask(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


# -- context -------------------------------------------------------------------------------
def current() -> dict[str, Any]:
    return _CONTEXT.get()


def bind(**fields: Any) -> contextvars.Token:
    """Add fields to the current context; give the token to :func:`unbind` to undo."""
    return _CONTEXT.set({**_CONTEXT.get(), **{k: v for k, v in fields.items() if v not in (None, "")}})


def unbind(token: contextvars.Token) -> None:
    _CONTEXT.reset(token)


@contextlib.contextmanager
def bound(**fields: Any) -> Iterator[None]:
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


async def bound_call(awaitable: Awaitable[T], **fields: Any) -> T:
    """Await ``awaitable`` with ``fields`` in the log context."""
    token = bind(**fields)
    try:
        return await awaitable
    finally:
        unbind(token)


def context_for(**fields: Any) -> contextvars.Context:
    """A copy of the current context with ``fields`` added: ``create_task(coro, context=...)``."""
    ctx = contextvars.copy_context()
    ctx.run(bind, **fields)
    return ctx


def from_key(key: str) -> dict[str, str]:
    """What an outbox key says about its cause: ``evt:<event_id>:1`` → event_id, ``timer:7:...``
    → the timer's cause; anything else → cause."""
    head, _, rest = key.partition(":")
    if head == "evt" and rest:
        return {"key": key, "event_id": rest.split(":", 1)[0]}
    if head == "timer" and rest:
        return {"key": key, "cause": ":".join(key.split(":")[:3])}
    return {"key": key, "cause": head}


# -- formatting ----------------------------------------------------------------------------
def _fields(record: logging.LogRecord) -> dict[str, Any]:
    out = dict(_CONTEXT.get())
    out.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
    event_id = out.get("event_id")
    if isinstance(event_id, str) and event_id.startswith("evt:"):  # a Ctx's cause, passed as event_id
        out["event_id"] = event_id[4:]
    elif isinstance(event_id, str) and event_id.startswith("timer:"):
        out["cause"] = out.pop("event_id")
    return out


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        return mask(f"{base} {extra}" if extra else base)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ms), level, logger, msg, the context fields."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        out = {"time": f"{stamp}.{int(record.msecs):03d}Z", "level": record.levelname,
               "logger": record.name, "msg": record.getMessage(), **_fields(record)}
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return mask(json.dumps(out, ensure_ascii=False, default=str))


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
