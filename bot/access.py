"""Who may see and do what: scopes, record kinds and the checks the router runs.

Every verb and card action declares a role (bot.roles) and a scope:

* ``OPEN``: anyone, outsiders included (help, /我是谁, /在吗, reporting a fault).
* ``TEAM``: anyone who is not an outsider. An outsider holds no role and is in none of the
  team's groups (chats of kind team, tech or field: set by ops with /群, by the bot when
  someone with a role adds it to a group, or by /直播间 for a room's field group).
* ``RECORD``: a record named by the verb (task #12, fault #3, stream #8 ...). Every record
  belongs to the chat it was created in. From another chat or a direct chat a person sees or
  changes it only if they take part in it (owner, reporter, assignee ...), are a member of the
  owning chat, or hold a role that covers it (ops; admin covers everything).
* ``OWNERS``: like RECORD, but only the record's own people and covering roles (going live:
  the stream's streamer, 场控, 中控 and ops), not every member of its chat.

A refusal of a record never tells whether the record exists ("#12 不存在或你无权查看").
Group membership comes from the chat itself (asking in a chat proves membership) or from
Feishu's member list (GET /open-apis/im/v1/chats/:chat_id/members), kept for five minutes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Awaitable, Callable

from sqlalchemy import select

from bot import roles

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.context import Ctx

TEAM_KINDS = ("team", "tech", "field")
MEMBERS_TTL = 300.0


class Scope(StrEnum):
    OPEN = "open"
    TEAM = "team"
    RECORD = "record"
    OWNERS = "owners"


@dataclass(frozen=True)
class Owned:
    """Who a record belongs to: its chats (where it was created, and e.g. its fault group or the
    room's field group) and the people who take part in it."""

    chats: frozenset[str]
    people: frozenset[str] = frozenset()


Loader = Callable[["AsyncSession", int], Awaitable[Owned | None]]


@dataclass(frozen=True)
class RecordKind:
    name: str  # task, fault, stream ...
    label: tuple[str, str]  # ("任务", "task") for messages
    load: Loader
    covered_by: frozenset[str] = frozenset({roles.OPS})


KINDS: dict[str, RecordKind] = {}


def record_kind(name: str, label: tuple[str, str], load: Loader, *,
                covered_by: tuple[str, ...] = (roles.OPS,)) -> RecordKind:
    """Declare a kind of record the access checks know how to look up (once per kind)."""
    if name in KINDS:
        raise ValueError(f"record kind {name} is declared twice")
    kind = RecordKind(name, label, load, frozenset(covered_by))
    KINDS[name] = kind
    return kind


@dataclass
class Members:
    """Group member lists read from Feishu, kept a few minutes (per process)."""

    ttl: float = MEMBERS_TTL
    _cache: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict)

    async def of(self, platform, chat_id: str) -> frozenset[str]:
        now = time.monotonic()
        hit = self._cache.get(chat_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            items = await platform.chat_members(chat_id)
        except Exception:  # noqa: BLE001 - unknown membership is no membership (fail closed)
            items = []
        found = frozenset(str(i.get("member_id")) for i in items if i.get("member_id"))
        self._cache[chat_id] = (now + self.ttl, found)
        return found

    def forget(self, chat_id: str) -> None:
        self._cache.pop(chat_id, None)


async def team_chats(session: "AsyncSession") -> list[str]:
    from bot.store.models import Chat

    return list((await session.execute(select(Chat.chat_id).where(Chat.kind.in_(TEAM_KINDS))
                                        .order_by(Chat.chat_id))).scalars())


async def is_member(ctx: "Ctx", chat_id: str) -> bool:
    """Is the asker a member of ``chat_id``? Asking in it proves it."""
    if not chat_id:
        return False
    if chat_id == ctx.chat_id:
        return True
    return ctx.user_id in await ctx.svc.members.of(ctx.svc.platform, chat_id)


async def is_outsider(ctx: "Ctx") -> bool:
    """No role, and in none of the team's groups."""
    if ctx.outsider is not None:
        return ctx.outsider
    if roles.granted(ctx.roles) or ctx.chat_kind in TEAM_KINDS:
        ctx.outsider = False
        return False
    for chat_id in await team_chats(ctx.session):
        if ctx.user_id in await ctx.svc.members.of(ctx.svc.platform, chat_id):
            ctx.outsider = False
            return False
    ctx.outsider = True
    return True


async def may_see(ctx: "Ctx", kind: RecordKind, record_id: int, *, owners_only: bool = False) -> bool:
    """Whether the asker may see or change record ``record_id`` of ``kind``."""
    owned = await kind.load(ctx.session, record_id)
    if owned is None:
        return False
    if roles.ADMIN in ctx.roles or kind.covered_by & ctx.roles:
        return True
    if ctx.user_id in owned.people:
        return True
    if owners_only:
        return False
    if ctx.chat_id in owned.chats:
        return True
    for chat_id in sorted(owned.chats):
        if await is_member(ctx, chat_id):
            return True
    return False


def parse_ref(word: str) -> int | None:
    """"12", "#12", "＃12" → 12; anything else (or a number no table can hold) → None."""
    word = word.strip().lstrip("#＃")
    if not word.isdigit() or not word.isascii():
        return None
    value = int(word)
    return value if 0 < value < 2 ** 31 else None
