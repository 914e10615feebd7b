"""/直播间 (/room): the live rooms — add, change, remove, list. Everyone may list; changing
needs the ops role. "场控群 本群" makes the current group the room's field-control group."""
from __future__ import annotations

import re
from datetime import timedelta

from bot import roles
from bot.commands.registry import command
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.schedule import cards, fields, service

ADD = {"添加", "新增", "add", "new"}
EDIT = {"修改", "改", "edit", "change"}
REMOVE = {"删除", "移除", "停用", "remove", "delete"}
LIST = {"", "列表", "查看", "list"}
ROOM_LABELS = {"别名": "aliases", "alias": "aliases", "aliases": "aliases", "平台": "platform",
               "platform": "platform", "场控群": "field_chat", "群": "field_chat", "group": "field_chat",
               "备注": "notes", "note": "notes", "notes": "notes", "名称": "name", "改名": "name", "name": "name"}
THIS_CHAT = {"本群", "这个群", "此群", "here", "this"}
NONE = {"无", "-", "清空", "none", "clear"}


def split_aliases(text: str) -> list[str]:
    return list(dict.fromkeys(a for a in re.split(r"[\s、,，/|]+", text.strip()) if a))[:10]


def field_chat(ctx: Ctx, value: str) -> str | None:
    value = value.strip()
    if value.lower() in THIS_CHAT:
        if ctx.message is not None and ctx.message.is_direct:
            raise UserError("schedule.room_chat_direct")
        return ctx.chat_id
    if value.lower() in NONE or not value:
        return None
    if re.fullmatch(r"oc_[A-Za-z0-9_-]{4,120}", value):
        return value
    raise UserError("schedule.room_chat_bad", value=value[:40])


@command("直播间", "room", examples_en=["/room list", "/room add 4号直播间 别名 4号间 平台 抖音"],
         summary=("管理直播间（名称、别名、平台、场控群）", "Manage live rooms (name, aliases, platform, group)"),
         usage=("/直播间 列表 ｜ /直播间 添加 4号直播间 别名 4号间 A4 平台 抖音 [场控群 本群] [备注 …] ｜ "
                "/直播间 修改 4号直播间 [名称 …] [别名 …] [平台 …] [场控群 本群|无] ｜ /直播间 删除 4号直播间",
                "/room list | /room add 4号直播间 别名 4号间 A4 平台 抖音 [场控群 本群] | "
                "/room edit 4号直播间 [名称 …] [别名 …] [平台 …] [场控群 本群|无] | /room remove 4号直播间"),
         examples=["/直播间 添加 4号直播间 别名 4号间 A4 平台 抖音", "/直播间 列表", "/直播间 修改 4号直播间 场控群 本群"],
         aliases=("房间", "rooms"), group=("排期", "Schedule"), order=21)
async def room_command(ctx: Ctx, args: str) -> None:
    verb, _, rest = args.strip().partition(" ")
    low = verb.lower()
    if low in LIST:
        await list_rooms(ctx)
        return
    if low not in ADD | EDIT | REMOVE:
        raise UsageError(ctx.t("schedule.room_usage"))
    ctx.require(roles.OPS)
    a = fields.split_labeled(rest, {fields.norm(k): v for k, v in ROOM_LABELS.items()})
    name = " ".join(a.head).strip()
    if not name:
        raise UsageError(ctx.t("schedule.room_need_name"))
    if low in ADD:
        room = await service.add_room(
            ctx.session, name=name, aliases=split_aliases(a.get("aliases") or ""),
            platform=(a.get("platform") or "")[:16], notes=(a.get("notes") or "")[:500],
            field_chat_id=field_chat(ctx, a.get("field_chat") or ""), now=ctx.now())
        await ctx.reply(ctx.t("schedule.room_added", name=room.name,
                              aliases="、".join(room.aliases) or "-", platform=room.platform or "-"))
        return
    room = await service.find_room(ctx.session, name)
    if low in REMOVE:
        upcoming = await service.streams_between(ctx.session, ctx.now(), ctx.now() + timedelta(days=3650),
                                                 room_id=room.id)
        if upcoming:
            raise UserError("schedule.room_has_streams", name=room.name, n=len(upcoming),
                            ids="、".join(f"#{s.id}" for s in upcoming[:10]))
        room.active = False
        await ctx.reply(ctx.t("schedule.room_removed", name=room.name))
        return
    changed = []
    new_name = (a.get("name") or "").strip()
    aliases = split_aliases(a.get("aliases")) if a.get("aliases") is not None else list(room.aliases or [])
    if a.get("aliases") is not None and (a.get("aliases") or "").strip().lower() in NONE:
        aliases = []
    await service.check_aliases(ctx.session, new_name or room.name, aliases, ignore_id=room.id)
    if new_name and new_name != room.name:
        if len(new_name) > 64:
            raise UserError("schedule.room_name_bad")
        room.name = new_name
        changed.append(ctx.t("schedule.room_f_name"))
    if aliases != list(room.aliases or []):
        room.aliases = aliases
        changed.append(ctx.t("schedule.room_f_aliases"))
    if a.get("platform") is not None:
        room.platform = (a.get("platform") or "")[:16]
        changed.append(ctx.t("schedule.room_f_platform"))
    if a.get("field_chat") is not None:
        room.field_chat_id = field_chat(ctx, a.get("field_chat") or "")
        changed.append(ctx.t("schedule.room_f_chat"))
    if a.get("notes") is not None:
        room.notes = (a.get("notes") or "")[:500]
        changed.append(ctx.t("schedule.room_f_notes"))
    if not changed:
        raise UsageError(ctx.t("schedule.room_usage"))
    await ctx.reply(ctx.t("schedule.room_changed", name=room.name, what="、".join(changed)))


async def list_rooms(ctx: Ctx) -> None:
    rooms = await service.list_rooms(ctx.session)
    upcoming = await service.streams_between(ctx.session, ctx.now(), ctx.now() + timedelta(days=7))
    counts: dict[int, int] = {}
    for s in upcoming:
        counts[s.room_id] = counts.get(s.room_id, 0) + 1
    card = cards.rooms_card(rooms, ctx.locale, counts)
    if not roles.allowed(ctx.roles, roles.OPS):
        card.note(ctx.t("schedule.rooms_ops_only"))
    await ctx.reply(card=card)
