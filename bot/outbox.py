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

Handed over at the insert: when this process's sender for the same database holds fewer than
its batch of rows (those claimed in open transactions counted), a row that is not bulk, points
at no other row ("@key") and finds no unfinished row in its lane is inserted already claimed by
that sender ("sending", its lease), and the sender gets it from memory right after the commit,
without a claim transaction of its own (bot.sendtake). A savepoint or a transaction rolled back
hands nothing over. A process that dies before sending leaves the row to its lease, like any
claimed row; a sender that stopped meanwhile puts it back at once. On PostgreSQL two
transactions writing to one lane at the same moment may both see it empty: the sender checks
each handed row is its lane's first before it goes, so it never overtakes an earlier
committed row of its lane (bot.sendtake).
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
from datetime import timedelta
from typing import Any, Callable, Iterator, Protocol

from sqlalchemy import bindparam, case, event, exists, literal_column
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.clock import wall_now
from bot.feishu import ops
from bot.feishu.ops import feishu_uuid
from bot.privacy import mask_payload
from bot.store.db import dialect_insert
from bot.store.models import OutboxMessage

log = logging.getLogger("bot.outbox")

OPS = ops.NAMES  # every op the sender can send, declared once in bot.feishu.ops
PAGE, PERSON, ROUTINE, BULK = 0, 1, 2, 3
PRIORITIES = (PAGE, PERSON, ROUTINE, BULK)
ALL = 0b1111  # every priority (a bit each, for the senders' wake-ups)
_scope: contextvars.ContextVar[int | None] = contextvars.ContextVar("outbox_priority", default=None)
_listeners: list[Callable[[int], None]] = []  # senders to tell (priority bits) after a commit that queued rows
LEASE = timedelta(seconds=60)  # a claimed row is the claimer's this long (then anyone's again)


class Taker(Protocol):
    """A sender that takes rows claimed for it at the insert (see the module's docstring)."""

    worker_id: str

    def accepts(self, level: int) -> bool: ...

    def promise(self, n: int = 1) -> None: ...  # a row claimed for it, its transaction still open

    def forget(self, n: int = 1) -> None: ...  # that transaction rolled back

    def take(self, rows: list[OutboxMessage]) -> None: ...  # it committed


_takers: dict[Engine, Taker] = {}  # by the (sync) engine of the database the sender sends from


def priority_for(key: str, op: str) -> int:
    """The priority of a row from what queued it (see the table above)."""
    declared = ops.OPS.get(op)
    if (declared is not None and declared.page) or key.startswith("fault:"):
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


async def enqueue(session: AsyncSession, *, key: str, op: str, lane: str, target: str = "",
                  payload: dict[str, Any], callback: str | None = None, priority: int | None = None) -> None:
    """Add a row unless its key exists. Times are wall time: sending happens on the wire."""
    declared = ops.OPS.get(op)
    if declared is None:
        raise ValueError(f"unknown outbox op {op}")
    if priority is not None and priority not in PRIORITIES:
        raise ValueError(f"unknown outbox priority {priority}")
    level = priority_for(key, op) if priority is None else priority
    if len(key) > 200:
        key = key[:150] + ":" + feishu_uuid(key)
    masked = [f for f in declared.mask if f in payload]
    if masked:  # personal data never leaves unmasked
        payload = {**payload, **{f: mask_payload(payload[f]) for f in masked}}
    now = wall_now()
    conn = await session.connection()  # Core, not the ORM: every answer passes here (no foreign keys)
    values = {"key": key, "op": op, "lane": lane[:128], "target": target, "payload": payload,
              "callback": callback, "status": "pending", "attempts": 0, "created_at": now,
              "next_attempt_at": now, "priority": level, "reported": False}
    taker = _takers.get(conn.sync_engine) if level < BULK and not target.startswith("@") else None
    if taker is not None and taker.accepts(level):
        taker.promise()  # before the await: concurrent transactions count it at once
        claim = {**values, "who": taker.worker_id, "until": now + LEASE, "in_lane": values["lane"]}
        del claim["status"]  # the statement decides it
        try:
            got = (await conn.execute(_insert_claimed(conn.dialect.name), claim)).first()
        except BaseException:
            taker.forget()
            raise
        if got is None or got.status != "sending":
            taker.forget()
            if got is not None:  # behind an unfinished row of its lane: whoever sends that row looks behind
                # it when it is done, unless it finished before this commit; so a look, but at the
                # routine pace (bot.sender LOOK_GAP): two replicas whose senders held every busy
                # chat's first row looked after every commit and found nothing (bench_replicas)
                level = level if level == PAGE else max(level, ROUTINE)  # (a page: at once, as ever)
        else:
            row = _handed({**values, "id": got.id, "status": "sending", "claimed_by": taker.worker_id,
                           "claimed_until": claim["until"]})
            session.info.setdefault("outbox_claimed", []).append((_innermost(session), taker, row))
            return
    else:
        await conn.execute(_insert_ignore(conn.dialect.name), values)
    session.info["outbox_queued"] = session.info.get("outbox_queued", 0) | 1 << level


_UNSET = dict.fromkeys(OutboxMessage.model_fields)


def _handed(values: dict[str, Any]) -> OutboxMessage:
    """The row just inserted, as a load would build it: SQLAlchemy's own new instance, its
    attributes set in place (unset columns None). ``OutboxMessage(**values)`` runs SQLModel's
    validation of values this process just wrote: 85 µs a row, against 4, on every answer."""
    row = OutboxMessage.__mapper__.class_manager.new_instance()
    row.__dict__.update(_UNSET)
    row.__dict__.update(values)
    return row


@functools.cache
def _insert_ignore(dialect: str):
    return dialect_insert(dialect)(OutboxMessage.__table__).on_conflict_do_nothing()


@functools.cache
def _insert_claimed(dialect: str):
    """The insert of a row claimed by a sender at once unless its lane has an unfinished row
    (then it is pending as usual); RETURNING says which (nothing: the key existed)."""
    t = OutboxMessage.__table__
    earlier = t.alias("earlier")
    # the statuses inline: an expanding IN is re-rendered on every call
    busy = exists().where(earlier.c.lane == bindparam("in_lane"),
                          earlier.c.status.in_([literal_column("'pending'"), literal_column("'sending'")]))
    return (dialect_insert(dialect)(t).values(
        status=case((busy, "pending"), else_="sending"),
        claimed_by=case((busy, None), else_=bindparam("who")),
        claimed_until=case((busy, None), else_=bindparam("until", type_=t.c.claimed_until.type)))
        .on_conflict_do_nothing().returning(t.c.id, t.c.status))


def _innermost(session: AsyncSession):
    sync = session.sync_session
    return sync.get_nested_transaction() or sync.get_transaction()


def take_with(engine: Engine, taker: Taker) -> None:
    """Rows queued through ``engine`` may be claimed for ``taker`` at the insert."""
    _takers[engine] = taker


def stop_taking(engine: Engine, taker: Taker) -> None:
    if _takers.get(engine) is taker:
        del _takers[engine]


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
    claimed = session.info.pop("outbox_claimed", None)
    if claimed:
        by_taker: dict[int, tuple[Taker, list[OutboxMessage]]] = {}
        for _tx, taker, row in claimed:
            by_taker.setdefault(id(taker), (taker, []))[1].append(row)
        for taker, rows in by_taker.values():
            try:
                taker.take(rows)
            except Exception:  # noqa: BLE001 - never break a commit: the rows' lease runs out instead
                log.exception("outbox hand-over failed")
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
        _forget(session.info.pop("outbox_claimed", None) or [])


@event.listens_for(Session, "after_soft_rollback")
def _after_soft_rollback(session: Session, previous) -> None:
    """A savepoint rolled back: the rows claimed inside it are gone (the root's rollback above
    drops them all)."""
    claimed = session.info.get("outbox_claimed")
    if not claimed or not previous.nested:
        return
    kept: list = []
    dropped: list = []
    for c in claimed:
        (dropped if _within(c[0], previous) else kept).append(c)
    session.info["outbox_claimed"] = kept
    _forget(dropped)


def _forget(dropped: list) -> None:
    for _tx, taker, _row in dropped:
        taker.forget()


def _within(tx, outer) -> bool:
    while tx is not None:
        if tx is outer:
            return True
        tx = tx.parent
    return False


def text_content(text: str) -> dict:
    return {"text": text}


def mention(open_id: str, name: str = "") -> str:
    """A mention inside a text message."""
    return f'<at user_id="{open_id}">{name}</at>'


def _message(text: str | None, card: Any) -> tuple[str, Any]:
    """(msg_type, content) of a text or a card (a bot.cards.Card or its dict)."""
    if card is not None:
        return "interactive", card.to_dict() if hasattr(card, "to_dict") else card
    if text is None:
        raise ValueError("nothing to send")
    return "text", text_content(text)


def to(session: AsyncSession) -> "Out":
    """The typed way to queue Feishu writes in this transaction: ``outbox.to(session).pin(...)``."""
    return Out(session)


class Out:
    """One typed helper per op of bot.feishu.ops, so a call site names the write it means and
    passes what that write needs (the stored op names and payloads are those of ``enqueue``).
    Every helper takes the row's idempotency ``key`` first; ``callback`` and ``priority`` are
    those of ``enqueue``. A target "@key" means "the result of the row with that key"."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _put(self, op: str, key: str, lane: str, target: str, payload: dict, callback: str | None,
                   priority: int | None) -> str:
        await enqueue(self.session, key=key, op=op, lane=lane, target=target, payload=payload, callback=callback,
                      priority=priority)
        return key

    # -- messages and chats ----------------------------------------------------------------
    async def send(self, key: str, to: str, text: str | None = None, *, card: Any = None, by: str = "chat_id",
                   callback: str | None = None, priority: int | None = None) -> str:
        """A message to a chat (``by="chat_id"``) or a person (``by="open_id"``, lane ``user:…``)."""
        msg_type, content = _message(text, card)
        lane = to if by == "chat_id" else f"user:{to}"
        return await self._put("send", key, lane, to, {"receive_id_type": by, "msg_type": msg_type,
                                                       "content": content}, callback, priority)

    async def reply(self, key: str, message: str, text: str | None = None, *, chat: str, card: Any = None,
                    in_thread: bool = False, callback: str | None = None, priority: int | None = None) -> str:
        msg_type, content = _message(text, card)
        payload: dict[str, Any] = {"msg_type": msg_type, "content": content}
        if in_thread:
            payload["reply_in_thread"] = True
        return await self._put("reply", key, chat, message, payload, callback, priority)

    async def patch(self, key: str, message: str, card: Any, *, chat: str, priority: int | None = None) -> str:
        """Update a card the bot sent (``message``: its id or "@key")."""
        content = card.to_dict() if hasattr(card, "to_dict") else card
        return await self._put("patch", key, chat, message, {"content": content}, None, priority)

    async def urgent(self, key: str, message: str, user_ids: list[str], *, chat: str, kind: str = "app",
                     callback: str | None = None, **extra: Any) -> str:
        """Buzz people about a message (``kind``: app, sms, phone); ``extra`` rides along for the callback."""
        return await self._put("urgent", key, chat, message, {"kind": kind, "user_ids": user_ids, **extra},
                               callback, None)

    async def create_chat(self, key: str, *, lane: str, name: str, user_ids: list[str], bot_ids: list[str],
                          description: str = "", callback: str | None = None, **extra: Any) -> str:
        return await self._put("create_chat", key, lane, "", {
            "name": name, "description": description, "user_id_list": user_ids, "bot_id_list": bot_ids, **extra},
            callback, None)

    async def add_members(self, key: str, chat: str, ids: list[str]) -> str:
        return await self._put("add_members", key, chat, chat, {"ids": ids}, None, None)

    async def update_chat(self, key: str, chat: str, **fields: Any) -> str:
        """Change a group's settings (``name=…``)."""
        return await self._put("update_chat", key, chat, chat, dict(fields), None, None)

    async def pin(self, key: str, chat: str, message: str) -> str:
        """Pin a message (its id or "@key") in its chat."""
        return await self._put("pin", key, chat, message, {}, None, None)

    async def send_file(self, key: str, to: str, file_name: str, data_b64: str, *, file_type: str = "stream",
                        by: str = "chat_id") -> str:
        lane = to if by == "chat_id" else f"user:{to}"
        return await self._put("send_file", key, lane, to, {"receive_id_type": by, "file_name": file_name,
                                                            "file_type": file_type, "data_b64": data_b64}, None, None)

    # -- Feishu Tasks v2 -------------------------------------------------------------------
    async def create_task(self, key: str, *, lane: str, task: dict, callback: str | None = None) -> str:
        return await self._put("create_task", key, lane, "", task, callback, None)

    async def patch_task(self, key: str, guid: str, *, lane: str, task: dict, fields: list[str]) -> str:
        return await self._put("patch_task", key, lane, guid, {"task": task, "update_fields": fields}, None, None)

    async def add_task_members(self, key: str, guid: str, members: list[dict], *, lane: str) -> str:
        return await self._put("add_task_members", key, lane, guid, {"members": members}, None, None)

    async def remove_task_members(self, key: str, guid: str, members: list[dict], *, lane: str) -> str:
        return await self._put("remove_task_members", key, lane, guid, {"members": members}, None, None)

    # -- the stream calendar ---------------------------------------------------------------
    async def create_calendar(self, key: str, *, lane: str, calendar: dict, callback: str | None = None) -> str:
        return await self._put("create_calendar", key, lane, "", calendar, callback, None)

    async def calendar_acl(self, key: str, calendar: str, user_id: str, *, lane: str, role: str = "reader") -> str:
        return await self._put("calendar_acl", key, lane, calendar, {"user_id": user_id, "role": role}, None, None)

    async def create_event(self, key: str, calendar: str, event: dict, *, lane: str,
                           callback: str | None = None) -> str:
        return await self._put("create_event", key, lane, calendar, {"event": event}, callback, None)

    async def patch_event(self, key: str, event_id: str, event: dict, *, calendar: str, lane: str) -> str:
        return await self._put("patch_event", key, lane, event_id, {"calendar_id": calendar, "event": event},
                               None, None)

    async def delete_event(self, key: str, event_id: str, *, calendar: str, lane: str) -> str:
        return await self._put("delete_event", key, lane, event_id, {"calendar_id": calendar}, None, None)

    async def add_attendees(self, key: str, event_id: str, user_ids: list[str], *, calendar: str, lane: str) -> str:
        return await self._put("add_attendees", key, lane, event_id, {"calendar_id": calendar, "user_ids": user_ids},
                               None, None)

    async def remove_attendees(self, key: str, event_id: str, user_ids: list[str], *, calendar: str,
                               lane: str) -> str:
        return await self._put("remove_attendees", key, lane, event_id,
                               {"calendar_id": calendar, "user_ids": user_ids}, None, None)

    # -- Bitable write-back ----------------------------------------------------------------
    async def update_record(self, key: str, record_id: str, fields: dict, *, app_token: str, table_id: str,
                            lane: str) -> str:
        return await self._put("update_record", key, lane, record_id,
                               {"app_token": app_token, "table_id": table_id, "fields": fields}, None, None)
