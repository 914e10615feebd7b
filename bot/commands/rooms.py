"""/直播间 (/room): the live rooms — add, change, remove, list. Everyone may list; changing
needs the ops role. "场控群 本群" makes the current group the room's field-control group."""
from __future__ import annotations

import re
from datetime import timedelta

from bot import roles
from bot.access import Scope
from bot.commands.registry import command_group
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.schedule import cards, fields, service
from bot.store.models import Chat

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


ROOM = command_group("直播间", "room", summary=("管理直播间（名称、别名、平台、场控群）", "Manage live rooms (name, aliases, platform, group)"),
                     aliases=("房间", "rooms"), group=("排期", "Schedule"), order=21)


@ROOM.verb("列表", "list", aliases=("查看",), default=True, scope=Scope.TEAM, accepts=lambda rest: not rest.strip(),
           summary=("所有直播间", "All rooms"), examples=["/直播间 列表"], examples_en=["/room list"])
async def list_verb(ctx: Ctx, rest: str) -> None:
    if rest.strip():
        raise UsageError(ctx.t("schedule.room_usage"))
    await list_rooms(ctx)


@ROOM.verb("添加", "add", aliases=("新增", "new"), role=roles.OPS, scope=Scope.TEAM,
           args=("4号直播间 别名 4号间 A4 平台 抖音 [场控群 本群] [备注 …]", "4号直播间 别名 4号间 A4 平台 抖音 [场控群 本群]"),
           summary=("加一个直播间", "Add a room"), examples=["/直播间 添加 4号直播间 别名 4号间 A4 平台 抖音"],
           examples_en=["/room add 4号直播间 别名 4号间 平台 抖音"])
async def add_verb(ctx: Ctx, rest: str) -> None:
    a, name = _labeled(ctx, rest)
    chat = field_chat(ctx, a.get("field_chat") or "")
    room = await service.add_room(
        ctx.session, name=name, aliases=split_aliases(a.get("aliases") or ""),
        platform=(a.get("platform") or "")[:16], notes=(a.get("notes") or "")[:500], field_chat_id=chat, now=ctx.now())
    await mark_field_group(ctx, chat)
    await ctx.reply(ctx.t("schedule.room_added", name=room.name,
                          aliases="、".join(room.aliases) or "-", platform=room.platform or "-"))


@ROOM.verb("删除", "remove", aliases=("移除", "停用", "delete"), role=roles.OPS, scope=Scope.TEAM,
           args=("<直播间>", "<room>"), summary=("停用一个直播间", "Retire a room"), examples=["/直播间 删除 4号直播间"],
           examples_en=["/room remove 4号直播间"])
async def remove_verb(ctx: Ctx, rest: str) -> None:
    _a, name = _labeled(ctx, rest)
    room = await service.find_room(ctx.session, name)
    upcoming = await service.streams_between(ctx.session, ctx.now(), ctx.now() + timedelta(days=3650),
                                             room_id=room.id)
    if upcoming:
        raise UserError("schedule.room_has_streams", name=room.name, n=len(upcoming),
                        ids="、".join(f"#{s.id}" for s in upcoming[:10]))
    room.active = False
    await ctx.reply(ctx.t("schedule.room_removed", name=room.name))


def _labeled(ctx: Ctx, rest: str):
    a = fields.split_labeled(rest, {fields.norm(k): v for k, v in ROOM_LABELS.items()})
    name = " ".join(a.head).strip()
    if not name:
        raise UsageError(ctx.t("schedule.room_need_name"))
    return a, name


async def mark_field_group(ctx: Ctx, chat_id: str | None) -> None:
    """A room's field-control group is one of the team's groups (bot.access)."""
    if not chat_id:
        return
    chat = await ctx.session.get(Chat, chat_id)
    if chat is not None and not chat.kind:
        chat.kind = "field"


@ROOM.verb("修改", "edit", aliases=("改", "change"), role=roles.OPS, scope=Scope.TEAM,
           args=("4号直播间 [名称 …] [别名 …] [平台 …] [场控群 本群|无]", "4号直播间 [名称 …] [别名 …] [场控群 本群|无]"),
           summary=("改直播间", "Change a room"), examples=["/直播间 修改 4号直播间 场控群 本群"],
           examples_en=["/room edit 4号直播间 场控群 本群"])
async def edit_verb(ctx: Ctx, rest: str) -> None:
    a, name = _labeled(ctx, rest)
    room = await service.find_room(ctx.session, name)
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
        await mark_field_group(ctx, room.field_chat_id)
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
