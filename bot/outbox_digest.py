"""The admins' digest of sends that failed for good: one card per admin, at most once an hour.

A row that fails for good (bot.feishu.codes: permanent, or temporary for about 13 minutes) is
recorded as ``failed`` (/状态 lists it) and, in the same transaction, makes sure the timer
``outbox:digest`` is due: ``GATHER`` after the first failure, and never sooner than ``EVERY``
after the previous digest. When it fires, every failed row not yet reported is counted by
(code, what, where) into one card to each admin (``BOT_ADMINS``), and marked reported. So a
fan-out hitting 300 groups the bot was removed from is one card, not 300 direct messages to
every admin. The digest's own failures (an admin who blocked the bot) are never digested.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.cards import Card, escape_md
from bot.context import Ctx
from bot.i18n import DEFAULT, LOCALES
from bot import timers
from bot.store.models import Chat, OutboxMessage

KIND = "outbox.digest"
KEY = "outbox:digest"
PREFIX = "digest:"  # keys of the digest's own rows
GATHER = timedelta(minutes=10)  # a burst of failures lands in one digest
EVERY = timedelta(hours=1)
MAX_ROWS = 2000  # per digest; more wait for the next one
MAX_LINES = 30


async def note(session: AsyncSession, now: datetime) -> None:
    """A row failed for good (in its transaction): make sure a digest is coming."""
    if session.info.get("digest_noted"):
        return
    session.info["digest_noted"] = True
    timer = await timers.get(session, KEY)
    if timer is not None and timer.state == timers.ACTIVE:
        return
    due = now + GATHER
    if timer is not None and timer.last_fired_at is not None:
        due = max(due, timer.last_fired_at + EVERY)
    await timers.schedule(session, key=KEY, kind=KIND, due=due, ref=KEY)


def lines(ctx: Ctx, rows: list[OutboxMessage], names: dict[str, str]) -> list[str]:
    """One line per (code, what, where), the most frequent first."""
    groups = Counter((r.error_code, r.op, r.lane) for r in rows)
    out = []
    for (code, op, lane), count in groups.most_common():
        hint_key = f"notice.code.{code if code is not None else 'none'}"
        hint = ctx.t(hint_key) if hint_key in LOCALES[DEFAULT] else ""
        where = names.get(lane) or lane.removeprefix("user:")
        out.append(ctx.t("notice.digest_line", code=code if code is not None else "-", hint=f" {hint}" if hint else "",
                         op=ctx.t(f"notice.op.{op}"), target=escape_md(where[:60]), count=count))
    return out


def card(ctx: Ctx, rows: list[OutboxMessage], names: dict[str, str]) -> Card:
    found = lines(ctx, rows, names)
    shown = found[:MAX_LINES]
    if len(found) > MAX_LINES:
        shown.append(ctx.t("notice.digest_more", n=len(found) - MAX_LINES))
    c = Card(ctx.t("notice.digest_title", n=len(rows)), template="orange")
    c.markdown("\n".join(shown))
    c.note(ctx.t("notice.digest_note"))
    return c


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    rows = list((await ctx.session.execute(
        select(OutboxMessage).where(OutboxMessage.status == "failed", OutboxMessage.reported.is_(False))
        .order_by(OutboxMessage.id).limit(MAX_ROWS))).scalars())
    if not rows:
        return
    chats = sorted({r.lane for r in rows if r.lane.startswith("oc_")})
    names: dict[str, str] = dict((await ctx.session.execute(select(Chat.chat_id, Chat.name).where(Chat.chat_id.in_(chats)))).all()
                 ) if chats else {}
    body = card(ctx, rows, {k: v for k, v in names.items() if v})
    stamp = f"{due:%Y%m%dT%H%M%S}"
    for admin in ctx.svc.settings.admins:
        await ctx.out.send(f"{PREFIX}{stamp}:{admin}", admin, card=body, by="open_id", priority=outbox.ROUTINE)
    await ctx.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                              .values(reported=True))
    if len(rows) == MAX_ROWS:  # more than one digest's worth: the rest in the next one
        await timers.schedule(ctx.session, key=KEY, kind=KIND, due=ctx.now() + EVERY, ref=KEY)
