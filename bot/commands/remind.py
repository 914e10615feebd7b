"""/提醒 (/remind): reminders anyone can set, for themselves, someone, or the whole group.

    /提醒 明天 19:00 对样品                 me (the default)
    /提醒 @小王 明天10点 交脚本              someone (several @ are fine)
    /提醒 大家 每个工作日 18:00 日报          the whole group (or @所有人)
    /提醒 列表 | 取消 3 | 暂停 3 | 恢复 3 | 推迟 3 1小时

The time grammar is bot/reminders/GRAMMAR.md (timeparse.parse). Cards and the timer
handler are in bot/reminders/reminder_cards.py.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.cards import Card
from bot.commands.registry import action, command
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.feishu.events import CardAction
from bot.people import display_name
from bot.reminders import timers
from bot.reminders.models import ACTIVE, PAUSED, Reminder, ReminderLog, Timer
from bot.reminders.reminder_cards import (KIND, LIST_MAX, fired_card, list_card, may_act, summary_card,
                                          timer_key, tz_name, unstamp, when_text)
from bot.reminders.timeparse import TimeParseError, parse

VERBS = {"列表": "list", "查看": "list", "list": "list", "ls": "list",
         "取消": "cancel", "删除": "cancel", "cancel": "cancel", "delete": "cancel",
         "暂停": "pause", "pause": "pause",
         "恢复": "resume", "继续": "resume", "resume": "resume",
         "推迟": "snooze", "延后": "snooze", "snooze": "snooze", "postpone": "snooze"}
EVERYONE = {"大家", "所有人", "全体", "全员", "everyone", "everybody", "all"}
ME = {"我", "me", "myself"}
ALL_TAGS = ("@所有人", "@全体成员", "@all", "@_all")
MAX_TEXT = 500
_ID = re.compile(r"^[#＃]?(\d{1,9})$")


@command("提醒", "remind", examples_en=["/remind tomorrow 9am call the brand", "/remind in 30 minutes check the stock", "/remind list"],
         summary=("设置提醒：给自己、某人或全群", "Reminders for yourself, someone or the group"),
         usage=("/提醒 [@某人|大家] <时间> <内容> ｜ /提醒 列表 ｜ /提醒 取消|暂停|恢复 <编号> ｜ "
                "/提醒 推迟 <编号> <多久|时间>",
                "/remind [@someone|everyone] <time> <text> | /remind list | /remind cancel|pause|resume <N> | "
                "/remind snooze <N> <how long|time>"),
         examples=["/提醒 明天 19:00 对样品", "/提醒 @小王 明天10点 交脚本", "/提醒 大家 每个工作日 18:00 日报",
                   "/提醒 30分钟后 看一下库存", "/提醒 每月最后一天 17:00 交自评表", "/提醒 列表",
                   "/提醒 推迟 3 1小时", "/remind tomorrow 9am call the brand"],
         aliases=("提醒我", "reminder", "reminders"), group=("提醒与定时", "Reminders"), order=20)
async def remind_command(ctx: Ctx, args: str) -> None:
    words = args.split()
    if not words:
        raise UsageError("")
    verb = VERBS.get(words[0].lower())
    if verb == "list":
        await ctx.reply(card=await _list(ctx))
    elif verb is not None:
        await _manage(ctx, verb, words[0], words[1:])
    else:
        await _create(ctx, args)


# -- creating -------------------------------------------------------------------------------
def _targets(ctx: Ctx, args: str) -> tuple[str, list[dict], bool]:
    """Take the people out of the text: (text left, targets, everyone)."""
    text, targets, everyone = args, [], False
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
    await ctx.reply(card=summary_card(ctx, rem, timer, new=True, notes=parsed.notes))


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


@action("remind.cancel")
async def cancel_button(ctx: Ctx, act: CardAction) -> None:
    await _manage_button(ctx, act, "cancel")


@action("remind.pause")
async def pause_button(ctx: Ctx, act: CardAction) -> None:
    await _manage_button(ctx, act, "pause")


@action("remind.resume")
async def resume_button(ctx: Ctx, act: CardAction) -> None:
    await _manage_button(ctx, act, "resume")


def _late(act: CardAction) -> float:
    """Seconds late the reminder went out, as its card's buttons recorded at the firing."""
    value = act.value.get("late") or 0
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float(bool(value))


@action("remind.done")
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


@action("remind.snooze")
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
