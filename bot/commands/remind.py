"""/提醒 (/remind): reminders anyone can set, for themselves, someone, or the whole group.

    /提醒 明天 19:00 对样品                 me (the default)
    /提醒 @小王 明天10点 交脚本              someone (several @ are fine)
    /提醒 大家 每个工作日 18:00 日报          the whole group (or @所有人)
    /提醒 列表 | 取消 3 | 暂停 3 | 恢复 3 | 推迟 3 1小时

The time grammar is bot/timeparse/GRAMMAR.md (timeparse.parse). Cards and the timer
handler are in bot/reminders/cards.py.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.cards import Card
from bot import records
from bot.access import Scope
from bot.commands.registry import command_group
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.feishu.events import CardAction
from bot.people import display_name
from bot.timeparse import holiday_store, workdays
from bot import timers
from bot.reminders.models import Reminder, ReminderLog
from bot.timers.models import ACTIVE, PAUSED, Timer
from bot.reminders import cards
from bot.reminders.cards import (KIND, LIST_MAX, fired_card, list_card, may_act, summary_card,
                                 timer_key, tz_name, unstamp, when_text)
from bot.timers.recurrence import Recurrence, next_fire
from bot.timeparse.parser import TimeParseError, parse

EVERYONE = {"大家", "所有人", "全体", "全员", "everyone", "everybody", "all"}
ME = {"我", "me", "myself"}
ALL_TAGS = ("@所有人", "@全体成员", "@all", "@_all")
MAX_TEXT = 500
_ID = re.compile(r"^[#＃]?(\d{1,9})$")

REMIND = command_group("提醒", "remind", summary=("设置提醒：给自己、某人或全群", "Reminders for yourself, someone or the group"),
                       aliases=("提醒我", "reminder", "reminders"), group=("提醒与定时", "Reminders"), order=20)


@REMIND.verb("设置", "set", default=True, scope=Scope.TEAM, accepts=lambda rest: bool(rest.strip()),
             args=("[@某人|大家] <时间> <内容>", "[@someone|everyone] <time> <text>"),
             summary=("设一个提醒", "Set a reminder"),
             examples=["/提醒 明天 19:00 对样品", "/提醒 @小王 明天10点 交脚本", "/提醒 大家 每个工作日 18:00 日报",
                       "/提醒 30分钟后 看一下库存", "/提醒 每月最后一天 17:00 交自评表"],
             examples_en=["/remind tomorrow 9am call the brand", "/remind in 30 minutes check the stock"])
async def remind_command(ctx: Ctx, args: str) -> None:
    if not args.split():
        raise UsageError("")
    await _create(ctx, args)


@REMIND.verb("列表", "list", aliases=("查看", "ls"), scope=Scope.TEAM, summary=("本群的提醒", "This chat's reminders"),
             examples=["/提醒 列表"], examples_en=["/remind list"])
async def list_verb(ctx: Ctx, rest: str) -> None:
    await ctx.reply(card=await _list(ctx))


def _manage_verb(word: str, en: str, aliases: tuple[str, ...], summary: tuple[str, str], args: tuple[str, str],
                 example: str, example_en: str) -> None:
    async def verb(ctx: Ctx, rest: str) -> None:
        await _manage(ctx, en, word, rest.split())

    verb.__name__ = verb.__qualname__ = f"remind_{en}"
    REMIND.verb(word, en, aliases=aliases, scope=Scope.OWNERS, record=records.REMINDER, args=args, summary=summary,
                examples=[example], examples_en=[example_en])(verb)


_manage_verb("取消", "cancel", ("删除", "delete"), ("取消提醒", "Cancel"), ("<编号>", "<N>"), "/提醒 取消 3", "/remind cancel 3")
_manage_verb("暂停", "pause", (), ("暂停提醒", "Pause"), ("<编号>", "<N>"), "/提醒 暂停 3", "/remind pause 3")
_manage_verb("恢复", "resume", ("继续",), ("恢复提醒", "Resume"), ("<编号>", "<N>"), "/提醒 恢复 3", "/remind resume 3")
_manage_verb("推迟", "snooze", ("延后", "postpone"), ("推迟提醒", "Snooze"), ("<编号> <多久|时间>", "<N> <how long|time>"),
             "/提醒 推迟 3 1小时", "/remind snooze 3 1 hour")


# -- creating -------------------------------------------------------------------------------
def _targets(ctx: Ctx, args: str) -> tuple[str, list[dict], bool]:
    """Take the people out of the text: (text left, targets, everyone)."""
    text, everyone = args, False
    targets: list[dict] = []
    for m in ctx.message.mentions if ctx.message else ():
        if m.name:
            text = text.replace(f"@{m.name}", " ", 1)
        if m.open_id and all(t["id"] != m.open_id for t in targets):
            targets.append({"id": m.open_id, "name": m.name})
    for tag in ALL_TAGS:
        if tag in text:
            everyone, text = True, text.replace(tag, " ")
    head, _, tail = text.strip().partition(" ")
    me = False
    if head.lower() in EVERYONE:
        everyone, text = True, tail
    elif head.lower() in ME:
        me, text = True, tail
    if (me or not targets) and not everyone and all(t["id"] != ctx.user_id for t in targets):
        targets.insert(0, {"id": ctx.user_id, "name": ""})
    return " ".join(text.split()), targets, everyone


def _time_error(ctx: Ctx, exc: TimeParseError) -> UserError:
    return UserError("remind.bad_time", detail=exc.message_for(ctx.locale))


async def _create(ctx: Ctx, args: str) -> None:
    text, targets, everyone = _targets(ctx, args)
    await holiday_store.refresh_if_stale(ctx.session)  # working-day rules read the holiday data
    try:
        parsed = parse(text, ctx.now(), tz_name(ctx), ctx.locale)
    except TimeParseError as exc:
        raise _time_error(ctx, exc) from None
    content = parsed.rest.strip(" ：:，,;；")
    if content.lower().startswith("to "):
        content = content[3:].strip()
    if not content:
        raise UserError("remind.need_text")
    if len(content) > MAX_TEXT:
        raise UserError("remind.too_long", max=MAX_TEXT)
    creator = await display_name(ctx, ctx.user_id) or ctx.user_id[-6:]
    for target in targets:
        if target["id"] == ctx.user_id:
            target["name"] = creator
    rem = Reminder(chat_id=ctx.chat_id, created_by=ctx.user_id, creator_name=creator[:100], text=content,
                   targets=targets, everyone=everyone, created_at=ctx.now(),
                   source_message_id=ctx.message.message_id if ctx.message else "")
    ctx.session.add(rem)
    await ctx.session.flush()
    assert rem.id is not None
    timer = await timers.schedule(ctx.session, key=timer_key(rem.id), kind=KIND, due=parsed.when,
                                  payload={"reminder_id": rem.id},
                                  rule=parsed.rule if parsed.recurring else None, chat_id=ctx.chat_id,
                                  ref=f"reminder:{rem.id}", created_by=ctx.user_id, tz=tz_name(ctx))
    rem.timer_id = timer.id
    notes = parsed.notes + calendar_notes(ctx, parsed.rule)
    await ctx.reply(card=summary_card(ctx, rem, timer, new=True, notes=notes,
                                      readings=[alt.rule for alt in parsed.plausible]))


def calendar_notes(ctx: Ctx, rule: Recurrence) -> tuple[str, ...]:
    """A working-day rule whose coming year has no official arrangement stored yet says so."""
    if not rule.working_days_only:
        return ()
    year = workdays.unknown_year_ahead(ctx.local_now().date())
    return (ctx.t("holidays.year_unknown", year=year),) if year else ()


# -- managing -------------------------------------------------------------------------------
async def _load(ctx: Ctx, rid: int) -> tuple[Reminder, Timer]:
    rem = await ctx.session.get(Reminder, rid)
    timer = await timers.get(ctx.session, timer_key(rid)) if rem is not None else None
    if rem is None or timer is None or rem.chat_id != ctx.chat_id:
        raise UserError("remind.not_found", id=rid)
    if not may_act(ctx, rem):
        raise UserError("remind.not_allowed", id=rid)
    return rem, timer


async def _record(ctx: Ctx, rid: int, what: str, *, due: datetime | None = None,
                  until: datetime | None = None) -> None:
    ctx.session.add(ReminderLog(reminder_id=rid, action=what, user_id=ctx.user_id, at=ctx.now(),
                                due=due, until=until))


async def _apply(ctx: Ctx, verb: str, rem: Reminder, timer: Timer) -> tuple[Timer, str]:
    """Cancel, pause or resume; returns the timer now and a text saying what happened."""
    rid, state = rem.id or 0, ctx.t(f"remind.state_{timer.state}")
    key = timer_key(rid)
    if verb == "cancel":
        if not await timers.cancel(ctx.session, key):
            return timer, ctx.t("remind.is_over", id=rid, state=state)
        text = ctx.t("remind.cancelled", id=rid, text=rem.text[:60])
    elif verb == "pause":
        if not await timers.pause(ctx.session, key):
            return timer, ctx.t("remind.not_active", id=rid, state=state)
        text = ctx.t("remind.paused", id=rid)
    else:
        resumed = await timers.resume(ctx.session, key, now=ctx.now())
        if resumed is None:
            return timer, ctx.t("remind.not_paused", id=rid, state=state)
        text = ctx.t("remind.resumed", id=rid, when=when_text(ctx, resumed.next_due))
    await _record(ctx, rid, verb)
    return await timers.get(ctx.session, key) or timer, text


def _rid(ctx: Ctx, word: str, verb_word: str) -> int:
    m = _ID.match(word.strip())
    if not m:
        raise UserError("remind.need_id", verb=verb_word)
    return int(m.group(1))


async def _manage(ctx: Ctx, verb: str, verb_word: str, rest: list[str]) -> None:
    if not rest:
        raise UserError("remind.need_id", verb=verb_word)
    rem, timer = await _load(ctx, _rid(ctx, rest[0], verb_word))
    if verb == "snooze":
        until = _snooze_until(ctx, timer, " ".join(rest[1:]))
        moved = await timers.snooze(ctx.session, timer.key, until)
        if moved is None:
            raise UserError("remind.gone", id=rem.id)
        await _record(ctx, rem.id or 0, "snooze", until=until)
        await ctx.reply(ctx.t("remind.snoozed", id=rem.id, when=when_text(ctx, until)))
        return
    _timer, text = await _apply(ctx, verb, rem, timer)
    await ctx.reply(text)


def _snooze_until(ctx: Ctx, timer: Timer, text: str) -> datetime:
    """"1小时" / "30分钟" / "1 hour" → later than planned by that much; "明天10点" → that time."""
    text = text.strip()
    if not text:
        raise UserError("remind.need_delay")
    now, tz = ctx.now(), tz_name(ctx)
    planned = timer.next_due if timer.state in (ACTIVE, PAUSED) and timer.next_due > now else now
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    try:
        offset = parse(f"{text}后" if cjk else f"in {text}", now, tz, ctx.locale)
        if not offset.rest and not offset.recurring:
            return planned + (offset.when - now)
    except TimeParseError:
        pass
    try:
        moment = parse(text, now, tz, ctx.locale)
    except TimeParseError as exc:
        raise _time_error(ctx, exc) from None
    if moment.recurring:
        raise UserError("remind.delay_repeats", text=moment.matched)
    return moment.when


async def _list(ctx: Ctx) -> Card:
    where = (Reminder.chat_id == ctx.chat_id, Timer.state.in_((ACTIVE, PAUSED)))
    rows = (await ctx.session.execute(
        select(Reminder, Timer).join(Timer, Timer.id == Reminder.timer_id).where(*where)
        .order_by(Timer.next_due, Reminder.id).limit(LIST_MAX))).all()
    total = (await ctx.session.execute(
        select(func.count()).select_from(Reminder).join(Timer, Timer.id == Reminder.timer_id)
        .where(*where))).scalar() or 0
    return list_card(ctx, [(r, t) for r, t in rows], max(0, total - len(rows)))


# -- buttons -------------------------------------------------------------------------------
def _action_id(act: CardAction) -> int:
    try:
        return int(act.value.get("id"))
    except (TypeError, ValueError):
        raise UserError("remind.not_found", id="?") from None


async def _manage_button(ctx: Ctx, act: CardAction, verb: str) -> None:
    rem, timer = await _load(ctx, _action_id(act))
    timer, _text = await _apply(ctx, verb, rem, timer)
    card = await _list(ctx) if act.value.get("v") == "l" else summary_card(ctx, rem, timer)
    if act.message_id:
        await ctx.update_card(act.message_id, card)


@cards.CANCEL.handle
async def cancel_button(ctx: Ctx, act: CardAction) -> None:
    await _manage_button(ctx, act, "cancel")


@cards.PAUSE.handle
async def pause_button(ctx: Ctx, act: CardAction) -> None:
    await _manage_button(ctx, act, "pause")


@cards.RESUME.handle
async def resume_button(ctx: Ctx, act: CardAction) -> None:
    await _manage_button(ctx, act, "resume")


def _late(act: CardAction) -> float:
    """Seconds late the reminder went out, as its card's buttons recorded at the firing."""
    value = act.value.get("late") or 0
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float(bool(value))


@cards.DONE.handle
async def done_button(ctx: Ctx, act: CardAction) -> None:
    rem, timer = await _load(ctx, _action_id(act))
    due = unstamp(act.value.get("due", "")) or ctx.now()
    already = (await ctx.session.execute(select(ReminderLog.id).where(
        ReminderLog.reminder_id == rem.id, ReminderLog.action == "done", ReminderLog.due == due))).first()
    if not already:
        await _record(ctx, rem.id or 0, "done", due=due)
    name = await display_name(ctx, ctx.user_id) or ctx.user_id[-6:]
    outcome = ctx.t("remind.done_by", name=name, time=when_text(ctx, ctx.now()))
    if act.message_id:
        await ctx.update_card(act.message_id, fired_card(ctx, rem, timer, due, late=_late(act),
                                                         outcome=outcome))


@cards.SNOOZE.handle
async def snooze_button(ctx: Ctx, act: CardAction) -> None:
    rem, timer = await _load(ctx, _action_id(act))
    due = unstamp(act.value.get("due", "")) or ctx.now()
    try:
        minutes = max(1, min(24 * 60, int(act.value.get("m", 10))))
    except (TypeError, ValueError):
        minutes = 10
    until = ctx.now() + timedelta(minutes=minutes)
    if await timers.snooze(ctx.session, timer.key, until) is None:
        raise UserError("remind.gone", id=rem.id)
    await _record(ctx, rem.id or 0, "snooze", due=due, until=until)
    name = await display_name(ctx, ctx.user_id) or ctx.user_id[-6:]
    outcome = ctx.t("remind.snoozed_by", name=name, time=when_text(ctx, until))
    if act.message_id:
        await ctx.update_card(act.message_id, fired_card(ctx, rem, timer, due, late=_late(act),
                                                         outcome=outcome))


@cards.REREAD.handle
async def reread_button(ctx: Ctx, act: CardAction) -> None:
    """Another reading of the time was pressed ("改为 明天 03:00"): move the reminder there; the
    card then offers the reading it had before."""
    rem, timer = await _load(ctx, _action_id(act))
    try:
        rule = Recurrence.from_dict(act.value.get("rule") or {})
    except (ValueError, TypeError, KeyError):
        raise UserError("remind.not_found", id=rem.id) from None
    if timer.state not in (ACTIVE, PAUSED):
        raise UserError("remind.reread_over", id=rem.id)
    when = rule.at if rule.kind == "once" else next_fire(rule, ctx.now())
    if when is None or when <= ctx.now():
        raise UserError("remind.reread_past", when=when_text(ctx, when or ctx.now()))
    before = Recurrence.from_dict(timer.rule) if timer.rule else Recurrence.once_at(timer.next_due, tz_name(ctx))
    paused = timer.state == PAUSED
    key = timer_key(rem.id or 0)
    timer = await timers.schedule(ctx.session, key=key, kind=KIND, due=when, payload={"reminder_id": rem.id},
                                  rule=rule if rule.recurring else None, chat_id=ctx.chat_id, ref=f"reminder:{rem.id}",
                                  created_by=rem.created_by, tz=tz_name(ctx))
    if paused:
        await timers.pause(ctx.session, key)
        timer = await timers.get(ctx.session, key) or timer
    await _record(ctx, rem.id or 0, "reread", due=when)
    name = await display_name(ctx, ctx.user_id) or ctx.user_id[-6:]
    notes = (ctx.t("remind.reread_done", name=name, when=when_text(ctx, when)),) + calendar_notes(ctx, rule)
    if act.message_id:
        await ctx.update_card(act.message_id, summary_card(ctx, rem, timer, new=True, notes=notes, readings=[before],
                                                           back=True))
