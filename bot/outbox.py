"""Writing outgoing calls into the outbox, inside the caller's transaction.

Each row carries an idempotency key derived from its cause (``evt:{event_id}:1``,
``timer:{id}:{due}``), so redoing the same work never sends anything twice.

Priority (issue 20, "pages first"): the sender sends, among the rows it may send (the head
of each lane), the most urgent first, and bulk rows only use part of Feishu's windows.
What queued a row decides its priority, here and nowhere else:

=========  ===================================================================================
PAGE (0)   buzzes (op ``urgent``); fault escalations (keys ``fault:…``, and whatever runs in
           ``with outbox.priority(PAGE)``: the fault SLA ladder)
PERSON (1) answers to people: everything an event caused (keys ``evt:…``: commands, card
           clicks, fault reports and their pages)
ROUTINE(2) the rest: reminders, checkpoints, callbacks' follow-ups, the admins' digest
BULK (3)   what runs in ``with outbox.priority(BULK)``: the daily briefing fan-out, cadence
           nudges, and any other send to many groups at once
=========  ===================================================================================

An explicit ``priority=`` to ``enqueue`` wins over all of these.

After a commit that queued rows, this process's senders are told which priorities were
queued (a bit per priority), so a sender with nothing due reads nothing until then.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import logging
from typing import Any, Callable, Iterator

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.clock import wall_now
from bot.privacy import mask_payload
from bot.store.db import dialect_insert
from bot.store.models import OutboxMessage

log = logging.getLogger("bot.outbox")

OPS = ("send", "reply", "patch", "urgent", "create_chat", "add_members", "update_chat", "pin",
       "upload_image", "create_task", "send_file",
       # Feishu-native (issue 17): calendar, Tasks v2 changes, Bitable write-back (bot/sender.py)
       "create_calendar", "calendar_acl", "create_event", "patch_event", "delete_event", "add_attendees",
       "remove_attendees", "patch_task", "add_task_members", "remove_task_members", "update_record")
MASKED = ("send", "reply", "patch", "urgent")
PAGE, PERSON, ROUTINE, BULK = 0, 1, 2, 3
PRIORITIES = (PAGE, PERSON, ROUTINE, BULK)
ALL = 0b1111  # every priority (a bit each, for the senders' wake-ups)
_scope: contextvars.ContextVar[int | None] = contextvars.ContextVar("outbox_priority", default=None)
_listeners: list[Callable[[int], None]] = []  # senders to tell (priority bits) after a commit that queued rows


def priority_for(key: str, op: str) -> int:
    """The priority of a row from what queued it (see the table above)."""
    if op == "urgent" or key.startswith("fault:"):
        return PAGE
    scoped = _scope.get()
    if scoped is not None:
        return scoped
    if key.startswith("evt:"):
        return PERSON
    return ROUTINE


@contextlib.contextmanager
def priority(level: int) -> Iterator[None]:
    """Rows queued inside the block get ``level`` (unless they are buzzes or fault pages)."""
    if level not in PRIORITIES:
        raise ValueError(f"unknown outbox priority {level}")
    token = _scope.set(level)
    try:
        yield
    finally:
        _scope.reset(token)


def feishu_uuid(key: str) -> str:
    """Feishu's send dedupe id (≤ 50 chars), stable for one idempotency key."""
    return hashlib.sha256(key.encode()).hexdigest()[:40]


async def enqueue(session: AsyncSession, *, key: str, op: str, lane: str, target: str = "",
                  payload: dict[str, Any], callback: str | None = None, priority: int | None = None) -> None:
    """Add a row unless its key exists. Times are wall time: sending happens on the wire."""
    if op not in OPS:
        raise ValueError(f"unknown outbox op {op}")
    if priority is not None and priority not in PRIORITIES:
        raise ValueError(f"unknown outbox priority {priority}")
    level = priority_for(key, op) if priority is None else priority
    if len(key) > 200:
        key = key[:150] + ":" + feishu_uuid(key)
    if op in MASKED and "content" in payload:  # personal data never leaves unmasked
        payload = {**payload, "content": mask_payload(payload["content"])}
    now = wall_now()
    conn = await session.connection()  # Core, not the ORM: every answer passes here (no foreign keys)
    await conn.execute(_insert_ignore(conn.dialect.name),
                       {"key": key, "op": op, "lane": lane[:128], "target": target, "payload": payload,
                        "callback": callback, "status": "pending", "attempts": 0, "created_at": now,
                        "next_attempt_at": now, "priority": level, "reported": False})
    session.info["outbox_queued"] = session.info.get("outbox_queued", 0) | 1 << level


@functools.cache
def _insert_ignore(dialect: str):
    return dialect_insert(dialect)(OutboxMessage.__table__).on_conflict_do_nothing()


def listen(fn: Callable[[int], None]) -> None:
    """Call ``fn(bits)`` after every commit in this process that queued rows (bit ``1 << p``
    for each priority ``p`` queued)."""
    _listeners.append(fn)


def unlisten(fn: Callable[[int], None]) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def queued(session: AsyncSession | Session, bits: int = ALL) -> None:
    """Say that this transaction made rows due (not through ``enqueue``): the senders look
    after the commit."""
    session.info["outbox_queued"] = session.info.get("outbox_queued", 0) | bits


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the real commit is still to come
        return
    bits = session.info.pop("outbox_queued", 0)
    if not bits:
        return
    for fn in list(_listeners):
        try:
            fn(bits)
        except Exception:  # noqa: BLE001 - a wake-up must never break a commit
            log.exception("outbox listener failed")


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop("outbox_queued", None)


def text_content(text: str) -> dict:
    return {"text": text}


def mention(open_id: str, name: str = "") -> str:
    """A mention inside a text message."""
    return f'<at user_id="{open_id}">{name}</at>'
