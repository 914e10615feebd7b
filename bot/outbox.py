"""Writing outgoing calls into the outbox, inside the caller's transaction.

Each row carries an idempotency key derived from its cause (``evt:{event_id}:1``,
``timer:{id}:{due}``), so redoing the same work never sends anything twice.
"""
from __future__ import annotations

import functools
import hashlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import wall_now
from bot.privacy import mask_payload
from bot.store.db import dialect_insert
from bot.store.models import OutboxMessage

OPS = ("send", "reply", "patch", "urgent", "create_chat", "add_members", "update_chat", "pin",
       "upload_image", "create_task", "send_file",
       # Feishu-native (issue 17): calendar, Tasks v2 changes, Bitable write-back (bot/sender.py)
       "create_calendar", "calendar_acl", "create_event", "patch_event", "delete_event", "add_attendees",
       "remove_attendees", "patch_task", "add_task_members", "remove_task_members", "update_record")
MASKED = ("send", "reply", "patch", "urgent")


def feishu_uuid(key: str) -> str:
    """Feishu's send dedupe id (≤ 50 chars), stable for one idempotency key."""
    return hashlib.sha256(key.encode()).hexdigest()[:40]


async def enqueue(session: AsyncSession, *, key: str, op: str, lane: str, target: str = "",
                  payload: dict[str, Any], callback: str | None = None) -> None:
    """Add a row unless its key exists. Times are wall time: sending happens on the wire."""
    if op not in OPS:
        raise ValueError(f"unknown outbox op {op}")
    if len(key) > 200:
        key = key[:150] + ":" + feishu_uuid(key)
    if op in MASKED and "content" in payload:  # personal data never leaves unmasked
        payload = {**payload, "content": mask_payload(payload["content"])}
    now = wall_now()
    conn = await session.connection()  # Core, not the ORM: every answer passes here (no foreign keys)
    await conn.execute(_insert_ignore(conn.dialect.name),
                       {"key": key, "op": op, "lane": lane[:128], "target": target, "payload": payload,
                        "callback": callback, "status": "pending", "attempts": 0, "created_at": now,
                        "next_attempt_at": now})


@functools.cache
def _insert_ignore(dialect: str):
    return dialect_insert(dialect)(OutboxMessage.__table__).on_conflict_do_nothing()


def text_content(text: str) -> dict:
    return {"text": text}


def mention(open_id: str, name: str = "") -> str:
    """A mention inside a text message."""
    return f'<at user_id="{open_id}">{name}</at>'
