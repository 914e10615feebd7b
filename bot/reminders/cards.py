"""/提醒 reminders: their cards, and the timer handler that posts a reminder when it is due.

A reminder is a row in ``reminders`` (text, creator, targets) plus a timer with key
``reminder:{id}`` and kind ``reminder`` (time, recurrence, state). Cards mention the targets
with ``<at id=ou_x></at>`` (everyone: ``<at id=all></at>``).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Sequence

from bot import roles
from bot import records
from bot.access import Scope
from bot.commands.registry import card_action
from bot.cards import Button, Card, escape_md
from bot.context import Ctx
from bot import timers
from bot.reminders.models import Reminder
from bot.timers.models import ACTIVE, PAUSED, Timer
from bot.timers.recurrence import Recurrence, describe
from bot.timeparse.parser import format_local

log = logging.getLogger("bot.reminders")

KIND = "reminder"
STAMP = "%Y%m%dT%H%M%S"

# The buttons reminder cards carry (handlers: bot/commands/remind.py): the people it is for,
# whoever set it, and ops.
def _reminder_action(name: str, label: tuple[str, str]):
    return card_action(name, label=label, scope=Scope.OWNERS, record=records.REMINDER)


CANCEL = _reminder_action("remind.cancel", ("取消提醒", "cancel the reminder"))
PAUSE = _reminder_action("remind.pause", ("暂停提醒", "pause the reminder"))
RESUME = _reminder_action("remind.resume", ("恢复提醒", "resume the reminder"))
DONE = _reminder_action("remind.done", ("完成提醒", "mark it done"))
SNOOZE = _reminder_action("remind.snooze", ("稍后提醒", "snooze"))
REREAD = _reminder_action("remind.reread", ("改提醒时间", "use the other reading"))


def timer_key(reminder_id: int) -> str:
    return f"reminder:{reminder_id}"


def stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime(STAMP)


def unstamp(text: str) -> datetime | None:
    try:
        return datetime.strptime(str(text), STAMP).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


# -- small renderings ----------------------------------------------------------------------
def tz_name(ctx: Ctx) -> str:
    return ctx.svc.settings.timezone


def when_text(ctx: Ctx, when: datetime) -> str:
    return format_local(when, tz_name(ctx), ctx.locale)


def repeat_text(ctx: Ctx, timer: Timer) -> str:
    if not timer.rule:
        return ctx.t("remind.no_repeat")
    try:
        return describe(Recurrence.from_dict(timer.rule), ctx.locale)
    except (ValueError, TypeError):
        return "?"


def who_text(ctx: Ctx, rem: Reminder) -> str:
    if rem.everyone:
        return ctx.t("remind.who_all")
    return "、".join(escape_md(t.get("name") or t.get("id", "")[-6:]) for t in rem.targets)


def mentions_md(rem: Reminder) -> str:
    if rem.everyone:
        return "<at id=all></at>"
    return " ".join(f"<at id={t['id']}></at>" for t in rem.targets if t.get("id"))


def state_text(ctx: Ctx, state: str) -> str:
    return ctx.t(f"remind.state_{state}")


def duration_text(ctx: Ctx, seconds: float) -> str:
    minutes = max(1, int(seconds // 60))
    if minutes < 60:
        return ctx.t("remind.minutes", n=minutes)
    return ctx.t("remind.hours", h=minutes // 60, m=minutes % 60)


def may_act(ctx: Ctx, rem: Reminder) -> bool:
    """The people it is for, whoever set it, and ops/admins may press and manage it."""
    if rem.everyone or ctx.user_id == rem.created_by or {roles.OPS, roles.ADMIN} & ctx.roles:
        return True
    return any(t.get("id") == ctx.user_id for t in rem.targets)


# -- cards ---------------------------------------------------------------------------------
def manage_buttons(ctx: Ctx, rem: Reminder, timer: Timer, view: str) -> list[Button]:
    """Cancel / pause (or resume) for a pending reminder; ``view`` says which card to redraw."""
    if timer.state not in (ACTIVE, PAUSED):
        return []
    toggle = (RESUME, "remind.btn_resume") if timer.state == PAUSED else (PAUSE, "remind.btn_pause")
    return [Button(ctx.t("remind.btn_cancel"), CANCEL(id=rem.id, v=view), kind="danger"),
            Button(ctx.t(toggle[1]), toggle[0](id=rem.id, v=view))]


def reread_buttons(ctx: Ctx, rem: Reminder, timer: Timer, readings: Sequence[Recurrence], *,
                   back: bool = False) -> list[Button]:
    """One button per other reading of the time ("改为 2026-11-27（周五）03:00"); pressing it
    moves the reminder there (remind.reread)."""
    if timer.state not in (ACTIVE, PAUSED):
        return []
    out = []
    for rule in readings:
        label = when_text(ctx, rule.at) if rule.kind == "once" and rule.at else describe(rule, ctx.locale)
        out.append(Button(ctx.t("remind.btn_reread_back" if back else "remind.btn_reread", when=label),
                          REREAD(id=rem.id, rule=rule.to_dict())))
    return out


def summary_card(ctx: Ctx, rem: Reminder, timer: Timer, *, new: bool = False,
                 notes: tuple[str, ...] = (), readings: Sequence[Recurrence] = (), back: bool = False) -> Card:
    """The confirmation card, redrawn after cancel / pause / resume / another reading.
    ``readings``: the other plausible readings of the time, offered as buttons."""
    title = ctx.t("remind.confirm_title" if new else "remind.summary_title", id=rem.id)
    template = {ACTIVE: "blue", PAUSED: "grey"}.get(timer.state, "grey")
    card = Card(title, template=template)
    pending = timer.state in (ACTIVE, PAUSED)
    when = when_text(ctx, timer.next_due) if pending else "—"
    pairs = [(ctx.t("remind.field_time" if new else "remind.field_next"), when),
             (ctx.t("remind.field_repeat"), repeat_text(ctx, timer)),
             (ctx.t("remind.field_who"), who_text(ctx, rem))]
    if not new:
        pairs.append((ctx.t("remind.field_state"), state_text(ctx, timer.state)))
    card.fields(pairs)
    card.markdown(f"**{ctx.t('remind.field_text')}**\n{escape_md(rem.text)}")
    for note in notes:
        card.note(note)
    card.buttons(*reread_buttons(ctx, rem, timer, readings, back=back), *manage_buttons(ctx, rem, timer, "c"))
    return card


def fired_card(ctx: Ctx, rem: Reminder, timer: Timer, due: datetime, *, late: float = 0,
               outcome: str = "") -> Card:
    """What the chat sees when the reminder is due; ``outcome`` replaces the buttons once pressed.

    ``late``: how many seconds after ``due`` it went out, as measured when it fired (0: on
    time). The buttons carry it, so the card redrawn on a press the next morning still says
    how late it was sent, not how long ago it was due. (Cards from before kept ``1``.)"""
    card = Card(ctx.t("remind.fired_title", id=rem.id), template="green" if outcome.startswith("✅") else "orange")
    card.markdown(f"{mentions_md(rem)} {escape_md(rem.text)}".strip())
    if late and late > 1:
        card.note(ctx.t("remind.late", due=when_text(ctx, due), late=duration_text(ctx, late)))
    elif late:
        card.note(ctx.t("remind.late_unknown", due=when_text(ctx, due)))
    card.note(ctx.t("remind.footer", id=rem.id, who=escape_md(rem.creator_name or rem.created_by[-6:]),
                    repeat=repeat_text(ctx, timer)))
    if outcome:
        card.markdown(outcome)
        return card
    base = {"id": rem.id, "due": stamp(due)}
    if late:
        base["late"] = int(late)
    card.buttons(Button(ctx.t("remind.btn_done"), DONE(**base), kind="primary"),
                 Button(ctx.t("remind.btn_snooze10"), SNOOZE(m=10, **base)),
                 Button(ctx.t("remind.btn_snooze60"), SNOOZE(m=60, **base)))
    return card


LIST_BUTTONS = 10  # entries with their own buttons
LIST_MAX = 30


def list_card(ctx: Ctx, rows: list[tuple[Reminder, Timer]], more: int) -> Card:
    card = Card(ctx.t("remind.list_title"), template="wathet")
    if not rows:
        card.markdown(ctx.t("remind.list_empty"))
        return card
    plain: list[str] = []
    for i, (rem, timer) in enumerate(rows):
        line = ctx.t("remind.list_line", id=rem.id, when=when_text(ctx, timer.next_due),
                     repeat=repeat_text(ctx, timer), who=who_text(ctx, rem), text=escape_md(rem.text[:80]))
        if timer.state == PAUSED:
            line += ctx.t("remind.list_paused")
        if i < LIST_BUTTONS:
            card.markdown(line)
            card.buttons(*manage_buttons(ctx, rem, timer, "l"))
        else:
            plain.append(line)
    if plain:
        card.hr().markdown("\n".join(plain))
    if more:
        card.note(ctx.t("remind.list_more", n=more))
    card.note(ctx.t("remind.list_hint"))
    return card


# -- the timer handler ---------------------------------------------------------------------
@timers.handler(KIND)
async def fire(ctx: Ctx, timer: Timer, *, due: datetime, late: bool) -> None:
    rem = await ctx.session.get(Reminder, int(timer.payload.get("reminder_id") or 0))
    if rem is None:
        log.warning("reminder timer without its reminder", extra={"timer": timer.key})
        return
    lateness = (ctx.now() - due).total_seconds() if late else 0
    await ctx.send(timer.chat_id, card=fired_card(ctx, rem, timer, due, late=lateness))
