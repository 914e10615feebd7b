"""/排期 (/schedule): streams — add, change, cancel, confirm, view, import, export.

Everyone may view; changing needs the ops role. Every change is announced with a short card
in the stream's team group (and the room's field-control group), @-ing the people concerned.
A booking sheet uploaded as CSV/XLSX is imported by the file handler below.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from bot import periods, roles, uploads
from bot.access import Scope
from bot.commands.registry import command_group, on_file
from bot.context import Ctx
from bot.data import visibility
from bot.errors import UsageError, UserError
from bot.feishu.events import CardAction, IncomingMessage
from bot.metrics import imported
from bot.people import display_name
from bot.timeparse.parser import TimeParseError
from bot.schedule import cards, export, fields, importer, service
from bot.schedule.models import CONFIRMED, PENDING, PERSON_FIELDS, Stream
from bot.store.models import Chat

ADD = {"添加", "新增", "加", "add", "new"}
EDIT = {"修改", "改", "调整", "edit", "change"}
CANCEL = {"取消", "cancel"}
CONFIRM = {"确认", "confirm"}
IMPORT = {"导入", "import"}
EXPORT = {"导出", "export"}
CLEAR = {"无", "-", "—", "清空", "none", "clear"}
ALL = {"全部", "含取消", "所有", "all"}
ME = {"我", "我的", "me", "mine"}




def tz_name(ctx: Ctx) -> str:
    return ctx.svc.settings.timezone


def max_hours(ctx: Ctx) -> float:
    from bot.feature_settings import ScheduleSettings, of

    return of(ctx.svc.settings, ScheduleSettings).schedule_max_hours


def mentions_of(ctx: Ctx, text: str) -> tuple[str, dict[str, str]]:
    """The text with mentioned names made one word each, and name → open_id."""
    found: dict[str, str] = {}
    for m in (ctx.message.mentions if ctx.message else ()):
        if not m.name:
            continue
        word = m.name.replace(" ", "_")
        text = text.replace(f"@{m.name}", f"@{word}")
        found[m.name], found[word] = m.open_id, m.open_id
    return text, found


async def team_chat(ctx: Ctx) -> str:
    """The group a new stream belongs to: this group, or from a direct chat the team group."""
    if ctx.message is None or not ctx.message.is_direct:
        return ctx.chat_id
    team = (await ctx.session.execute(select(Chat.chat_id).where(Chat.kind == "team"))).scalars().first()
    return team or ctx.chat_id


SCHEDULE = command_group("排期", "schedule", summary=("直播排期：添加、修改、取消、查看、导入、导出",
                                                      "Stream schedule: add, change, view, import, export"),
                         aliases=("排班", "场次"), group=("排期", "Schedule"), order=20)
ROOMISH = re.compile(r"^(\d+号|.*直播间$|.*间$|[#＃]?\d+$)")


def _is_view(rest: str) -> bool:
    """Arguments a schedule view understands: a period, a room, @someone, 全部/我 (or nothing)."""
    words = rest.split()
    if not words:
        return True
    period, left = periods.take(words, date(2026, 1, 1))
    return all(w.startswith(("@", "＠")) or w.lower() in ALL | ME or ROOMISH.match(w) for w in left) and \
        (period is not None or bool(left))


@SCHEDULE.verb("查看", "view", aliases=("看",), default=True, scope=Scope.TEAM, accepts=_is_view,
               args=("今天|本周|下周|本月 [直播间|@主播|全部]", "today|week|next week|month [room|@streamer|all]"),
               summary=("看排期", "See the schedule"), examples=["/排期 本周", "/排期 下周 @李主播"],
               examples_en=["/schedule week", "/schedule next week @李主播"])
async def view_verb(ctx: Ctx, rest: str) -> None:
    await view(ctx, rest)


@SCHEDULE.verb("#编号", "#id", pattern=r"[#＃]\d+", scope=Scope.TEAM, args=("#<编号>", "#<id>"), ref="none",
               summary=("一场的详情", "One stream's details"), examples=["/排期 #12"], examples_en=["/schedule #12"])
async def details_verb(ctx: Ctx, rest: str) -> None:
    await details(ctx, rest.split()[0])


@SCHEDULE.verb("添加", "add", aliases=("新增", "加", "new"), role=roles.OPS, scope=Scope.TEAM,
               args=("直播间 日期 开始-结束 主播 @某人 场控 @某人 品牌 … 主题 … 目标 50万",
                     "room day start-end 主播 @someone 场控 @someone 品牌 … 目标 500000"),
               summary=("添加一场", "Add a stream"),
               examples=["/排期 添加 1号直播间 明天 19:00-23:00 主播 @李主播 场控 @张场控 品牌 花西子 主题 双12预热 目标 50万"],
               examples_en=["/schedule add 1号直播间 tomorrow 19:00-23:00 主播 @李主播 场控 @张场控"])
async def add_verb(ctx: Ctx, rest: str) -> None:
    await add(ctx, rest)


@SCHEDULE.verb("修改", "edit", aliases=("改", "调整", "change"), role=roles.OPS, scope=Scope.TEAM,
               args=("#编号 开始 20:00 主播 @某人", "#id 开始 20:00 主播 @someone"), summary=("改一场", "Change a stream"),
               examples=["/排期 修改 #12 开始 20:00 主播 @周主播"], examples_en=["/schedule edit #12 开始 20:00"])
async def edit_verb(ctx: Ctx, rest: str) -> None:
    await edit(ctx, rest)


@SCHEDULE.verb("取消", "cancel", role=roles.OPS, scope=Scope.TEAM, args=("#编号 原因 …", "#id 原因 …"),
               summary=("取消一场", "Cancel a stream"), examples=["/排期 取消 #12 原因 主播临时请假"],
               examples_en=["/schedule cancel #12 原因 streamer is ill"])
async def cancel_verb(ctx: Ctx, rest: str) -> None:
    await cancel(ctx, rest)


@SCHEDULE.verb("确认", "confirm", role=roles.OPS, scope=Scope.TEAM, args=("#编号 …", "#id …"),
               summary=("确认一场或几场", "Confirm streams"), examples=["/排期 确认 #12"], examples_en=["/schedule confirm #12"])
async def confirm_verb(ctx: Ctx, rest: str) -> None:
    await confirm(ctx, rest)


@SCHEDULE.verb("导入", "import", role=roles.OPS, scope=Scope.TEAM,
               args=("（换行后粘贴表格，或直接上传 CSV/XLSX）", "(paste a table on the next lines, or upload CSV/XLSX)"),
               summary=("导入排期表", "Import a booking sheet"),
               examples=["/排期 导入\n日期,开始,结束,直播间,主播\n12-01,19:00,23:00,1号直播间,李主播"],
               examples_en=["/schedule import\n日期,开始,结束,直播间,主播\n12-01,19:00,23:00,1号直播间,李主播"])
async def import_verb(ctx: Ctx, rest: str) -> None:
    await import_pasted(ctx, rest)


@SCHEDULE.verb("导出", "export", scope=Scope.TEAM, args=("本周|本月 csv|ics", "week|month csv|ics"),
               summary=("导出 CSV 或日历文件", "Export CSV or a calendar file"), examples=["/排期 导出 本月 ics"],
               examples_en=["/schedule export month ics"])
async def export_verb(ctx: Ctx, rest: str) -> None:
    await export_file(ctx, rest)


# -- adding and changing ----------------------------------------------------------------------------
async def people_from(ctx: Ctx, a: fields.Args, names: dict[str, str], *, clearing: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in PERSON_FIELDS:
        value = a.get(f)
        if value is None:
            continue
        if not value:
            raise UserError("schedule.person_missing_for", field=ctx.t("schedule.field." + f))
        if clearing and value.lower() in CLEAR:
            out[f] = None
            continue
        out[f] = (await service.find_person(ctx.session, value, mentions=names, title=importer.TITLE_FOR[f]))[0]
    return out


def details_from(ctx: Ctx, a: fields.Args) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in ("brand", "theme"):
        if a.get(f) is not None:
            out[f] = a.get(f) or ""
    if a.get("target_gmv") is not None:
        try:
            out["target_gmv"] = fields.parse_amount(a.get("target_gmv"))
        except ValueError:
            raise UserError("schedule.bad_amount", value=(a.get("target_gmv") or "")[:30]) from None
    if a.get("status") is not None:
        status = fields.parse_status(a.get("status") or "")
        if status not in (PENDING, CONFIRMED):
            raise UserError("schedule.bad_status", value=(a.get("status") or "")[:20])
        out["status"] = status
    return out


def time_error(ctx: Ctx, exc: TimeParseError) -> UserError:
    return UserError("schedule.bad_time", detail=exc.message_for(ctx.locale))


async def add(ctx: Ctx, rest: str) -> None:
    text, names = mentions_of(ctx, rest)
    a = fields.split_args(text)
    if not a.head and not a.get("room"):
        raise UsageError(ctx.t("schedule.add_hint"))
    rooms = await service.list_rooms(ctx.session)
    if not rooms:
        raise UserError("schedule.no_rooms")
    words = list(a.head)
    if a.get("room"):
        room = await service.find_room(ctx.session, a.get("room") or "")
    else:
        room = None
        for i, word in enumerate(words):
            found = service.match_rooms(word, rooms)
            if len(found) > 1:
                raise UserError("schedule.room_ambiguous", text=word[:40], matches="、".join(r.name for r in found))
            if found:
                room = found[0]
                del words[i]
                break
        if room is None:
            raise UserError("schedule.room_unknown", text=words[0][:40], rooms="、".join(r.name for r in rooms))
    when = " ".join(words + [a.get("date") or "", a.get("time") or ""]).strip()
    if a.get("start") and a.get("end"):
        when = f"{when} {a.get('start')}-{a.get('end')}".strip()
    if not when:
        raise UserError("schedule.need_time")
    try:
        starts_at, ends_at = fields.stream_window(when, ctx.local_now().date(), tz_name(ctx))
    except TimeParseError as exc:
        raise time_error(ctx, exc) from None
    if ends_at <= ctx.now():
        raise UserError("schedule.in_past", when=service.span_text(starts_at, ends_at, tz_name(ctx)))
    people = await people_from(ctx, a, names, clearing=False)
    extra = details_from(ctx, a)
    stream = await service.add_stream(
        ctx.session, room=room, starts_at=starts_at, ends_at=ends_at, people=people,
        brand=extra.get("brand", ""), theme=extra.get("theme", ""), target_gmv=extra.get("target_gmv"),
        status=extra.get("status", PENDING), chat_id=await team_chat(ctx), by=ctx.user_id, now=ctx.now(),
        tz=tz_name(ctx), max_hours=max_hours(ctx))
    await announce(ctx, "added", stream)


async def edit(ctx: Ctx, rest: str) -> None:
    text, names = mentions_of(ctx, rest)
    a = fields.split_args(text)
    if not a.head:
        raise UsageError(ctx.t("schedule.need_id_hint"))
    stream = await service.get_stream(ctx.session, a.head[0])
    changes: dict[str, Any] = {}
    time_text = a.get("time") or " ".join(a.head[1:])
    if any((a.get("date"), time_text, a.get("start"), a.get("end"))):
        try:
            starts_at, ends_at = fields.moved_window(
                stream.starts_at, stream.ends_at, today=ctx.local_now().date(), tz=tz_name(ctx),
                date_text=a.get("date"), time_text=time_text or None, start_text=a.get("start"),
                end_text=a.get("end"))
        except TimeParseError as exc:
            raise time_error(ctx, exc) from None
        except ValueError:
            raise UserError("schedule.bad_clock", value=(a.get("start") or a.get("end") or "")[:20]) from None
        changes.update(starts_at=starts_at, ends_at=ends_at)
    if a.get("room"):
        changes["room_id"] = (await service.find_room(ctx.session, a.get("room") or "")).id
    changes.update(await people_from(ctx, a, names, clearing=True))
    changes.update(details_from(ctx, a))
    if not changes:
        raise UsageError(ctx.t("schedule.edit_hint"))
    before = stream.people()
    diff = await service.edit_stream(ctx.session, stream, changes, by=ctx.user_id, now=ctx.now(), tz=tz_name(ctx),
                                     max_hours=max_hours(ctx))
    if not diff:
        await ctx.reply(ctx.t("schedule.no_change", id=stream.id))
        return
    await announce(ctx, "changed", stream, diff=diff, also=before.values())


async def cancel(ctx: Ctx, rest: str) -> None:
    a = fields.split_args(rest)
    if not a.head:
        raise UsageError(ctx.t("schedule.need_id_hint"))
    stream = await service.get_stream(ctx.session, a.head[0])
    reason = a.get("reason") or " ".join(a.head[1:])
    await service.cancel_stream(ctx.session, stream, reason=reason, by=ctx.user_id, now=ctx.now())
    await announce(ctx, "cancelled", stream, reason=reason)


async def confirm(ctx: Ctx, rest: str) -> None:
    refs = rest.split()
    if not refs:
        raise UsageError(ctx.t("schedule.need_id_hint"))
    for ref in refs[:20]:
        stream = await service.get_stream(ctx.session, ref)
        if await service.confirm_stream(ctx.session, stream, by=ctx.user_id, now=ctx.now()):
            await announce(ctx, "confirmed", stream)
        else:
            await ctx.reply(ctx.t("schedule.already_confirmed", id=stream.id))


@cards.CONFIRM.handle
async def confirm_button(ctx: Ctx, act: CardAction) -> None:
    try:
        stream = await service.stream_by_id(ctx.session, int(act.value.get("id", 0)))
    except (TypeError, ValueError):
        stream = None
    if stream is None:
        raise UserError("access.stale_button")
    if not await service.confirm_stream(ctx.session, stream, by=ctx.user_id, now=ctx.now()):
        ctx.toast(ctx.t("schedule.already_confirmed", id=stream.id))
    else:
        ctx.toast(ctx.t("schedule.confirmed_toast", id=stream.id), "success")
        room = await service.room_by_id(ctx.session, stream.room_id)
        names = await service.names_of(ctx.session, stream.people().values())
        if act.message_id:
            await ctx.update_card(act.message_id, cards.detail_card(stream, room, names, ctx.locale, ctx.svc.tz,
                                                                    hide_sales=await sales_hidden(ctx)))
        await announce(ctx, "confirmed", stream)


async def announce(ctx: Ctx, kind: str, stream: Stream, *, diff: dict | None = None, reason: str = "",
                   also: Any = (), by: str | None = None) -> None:
    """The change card: as the reply here, and in the team and field-control groups. ``by``:
    who made the change, when it was not the asker (e.g. "多维表格")."""
    ids = [*stream.people().values(), *also]
    for f, (old, new) in (diff or {}).items():
        if f in PERSON_FIELDS:
            ids += [x for x in (old, new) if x]
    rooms, names = await cards.context(ctx.session, [stream])
    if diff and "room_id" in diff:
        rooms.update({r.id: r for r in await service.list_rooms(ctx.session, include_inactive=True)})
    names.update(await service.names_of(ctx.session, ids))
    who = by or await display_name(ctx, ctx.user_id) or ctx.user_id[-6:]
    mention = [i for i in dict.fromkeys(ids) if i and i != ctx.user_id]

    def card(hide: bool):
        return cards.change_card(kind, stream, rooms, names, ctx.locale, ctx.svc.tz, by=who, diff=diff,
                                 mentions=mention, reason=reason, hide_sales=hide)

    await ctx.reply(card=card(await sales_hidden(ctx)))
    room = rooms.get(stream.room_id)
    for chat in dict.fromkeys([stream.chat_id, room.field_chat_id if room else None]):
        if chat and chat != ctx.chat_id:  # each group as it is: a field group is usually not internal
            await ctx.send(chat, card=card(await visibility.sales_hidden(ctx.session, chat)))


async def sales_hidden(ctx: Ctx) -> bool:
    """Sales figures (目标GMV) hidden in this answer? One decision for every card: bot.data.visibility."""
    return await visibility.sales_hidden(ctx.session, ctx.chat_id, held=ctx.roles,
                                         direct=bool(ctx.message is not None and ctx.message.is_direct))


# -- viewing ------------------------------------------------------------------------------------------
async def details(ctx: Ctx, ref: str) -> None:
    stream = await service.get_stream(ctx.session, ref)
    room = await service.room_by_id(ctx.session, stream.room_id)
    names = await service.names_of(ctx.session, stream.people().values())
    await ctx.reply(card=cards.detail_card(stream, room, names, ctx.locale, ctx.svc.tz,
                                           buttons=roles.allowed(ctx.roles, roles.OPS),
                                           hide_sales=await sales_hidden(ctx)))


async def view_filters(ctx: Ctx, words: list[str], names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"room_id": None, "person": None, "include_cancelled": False}
    labels = []
    for word in words:
        if word.lower() in ALL:
            out["include_cancelled"] = True
        elif word.lower() in ME:
            out["person"] = ctx.user_id
            labels.append(await display_name(ctx, ctx.user_id))
        elif word.startswith(("@", "＠")):
            out["person"], name = await service.find_person(ctx.session, word, mentions=names)
            labels.append(name)
        else:
            room = await service.find_room(ctx.session, word)
            out["room_id"] = room.id
            labels.append(room.name)
    out["subtitle"] = " · ".join(x for x in labels if x)
    return out


async def view(ctx: Ctx, args: str) -> None:
    text, names = mentions_of(ctx, args)
    today = ctx.local_now().date()
    period, words = periods.take(text.split(), today)
    if period is None:
        if words and not words[0].startswith(("@", "＠")) and words[0].lower() not in ALL | ME:
            try:
                await service.find_room(ctx.session, words[0])
            except UserError:
                raise UsageError(ctx.t("schedule.view_hint", word=words[0][:20])) from None
        period = periods.parse("本周", today)
    assert period is not None
    kind, first, days = period
    filters = await view_filters(ctx, words, names)
    subtitle = filters.pop("subtitle")
    if kind in ("month", "last_month", "next_month"):
        card = await cards.month_card(ctx.session, first, ctx.locale, tz_name(ctx), subtitle=subtitle, **filters)
    elif days == 7:
        card = await cards.week_card(ctx.session, first, ctx.locale, tz_name(ctx), subtitle=subtitle, **filters)
    elif days == 1:
        title = ctx.t("schedule.day_title", day=cards.day_label(first, ctx.locale))
        card = await cards.period_card(ctx.session, first, 1, ctx.locale, tz_name(ctx), title=title,
                                       subtitle=subtitle, **filters)
    else:  # 近30天
        last = first + timedelta(days=days - 1)
        title = ctx.t("schedule.week_title", start=f"{first:%m-%d}", end=f"{last:%m-%d}")
        card = await cards.period_card(ctx.session, first, days, ctx.locale, tz_name(ctx), title=title,
                                       subtitle=subtitle, show_empty_days=False, **filters)
    await ctx.reply(card=card)


# -- import and export --------------------------------------------------------------------------------
async def run_import(ctx: Ctx, sheet: importer.Sheet, source: str) -> None:
    result = await importer.import_sheet(ctx.session, sheet, locale=ctx.locale, tz=tz_name(ctx),
                                         today=ctx.local_now().date(), now=ctx.now(), by=ctx.user_id,
                                         chat_id=await team_chat(ctx), max_hours=max_hours(ctx))
    imported(ctx, "schedule", "rejected" if result.rejected else "ok", len(result.rejected))
    await ctx.reply(card=cards.import_card(result, ctx.locale, source=source))


async def import_pasted(ctx: Ctx, rest: str) -> None:
    if not rest.strip():
        raise UsageError(ctx.t("schedule.import_hint_usage"))
    await run_import(ctx, importer.read_text(rest), ctx.t("schedule.import_pasted"))


def _is_sheet(msg: IncomingMessage) -> bool:
    return msg.msg_type == "file" and msg.file_name.lower().endswith(importer.SHEET_EXTENSIONS)


def _named_like_a_schedule(msg: IncomingMessage) -> bool:
    return importer.named_like_sheet(msg.file_name)


@on_file(priority=30, match=_is_sheet, role=roles.OPS, scope=Scope.TEAM, explain=_named_like_a_schedule,
         label=("导入排期", "schedule import"))
async def schedule_file(ctx: Ctx, msg: IncomingMessage) -> bool:
    """An uploaded booking sheet (CSV/XLSX with 日期, 时间 or 开始/结束时间, 直播间 columns) is
    imported; any other file is left for other handlers. Only ops get this far (the router
    checks before anything is downloaded)."""
    data = await ctx.file_bytes(msg.message_id, msg.file_key)
    if not data:
        return False
    try:
        sheet = await importer.read_upload(msg.file_name, data)  # bounded, off the event loop
    except uploads.Refused as exc:
        await ctx.reply(exc.message(ctx.locale))
        return True
    if not importer.map_columns(sheet.header).is_booking_sheet:
        return False
    await run_import(ctx, sheet, msg.file_name[:80])
    return True


async def export_file(ctx: Ctx, rest: str) -> None:
    words = rest.lower().split()
    fmt = next((w.lstrip(".") for w in words if w.lstrip(".") in ("csv", "ics", "ical", "日历")), "csv")
    fmt = "ics" if fmt in ("ical", "日历") else fmt
    today = ctx.local_now().date()
    period = periods.take(words, today)[0] or periods.parse("本周", today)
    assert period is not None
    _kind, first, days = period
    zone = ctx.svc.tz
    start = datetime.combine(first, time(0), tzinfo=zone)
    streams = await service.streams_between(ctx.session, start, start + timedelta(days=days),
                                            include_cancelled=fmt == "ics")
    streams = [s for s in streams if first <= s.starts_at.astimezone(zone).date() < first + timedelta(days=days)]
    rooms, names = await cards.context(ctx.session, streams)
    last = first + timedelta(days=days - 1)
    base = f"{ctx.t('schedule.file_prefix')}_{first:%Y%m%d}-{last:%Y%m%d}"
    hide = await sales_hidden(ctx)  # the file goes into this chat: no 目标GMV where sales are hidden
    if fmt == "ics":
        data = export.to_ics(streams, rooms, names, now=ctx.now(), locale=ctx.locale,
                             calendar_name=ctx.t("schedule.calendar_name"), hide_sales=hide)
    else:
        data = export.to_csv(streams, rooms, names, zone, hide_sales=hide)
    await ctx.send_file(ctx.chat_id, f"{base}.{fmt}", data)
    await ctx.reply(ctx.t("schedule.exported", n=len(streams), start=f"{first:%m-%d}", end=f"{last:%m-%d}",
                          fmt=fmt.upper()))
