"""/人员 (/people): the team's people and their job titles (主播, 场控, 中控 …), used to
resolve names in schedules and to know who does what. Everyone may list; adding and
removing needs the ops role. Job titles are not permissions: see /角色 for those."""
from __future__ import annotations

from bot import roles
from bot.commands.registry import command
from bot.commands.schedule import mentions_of
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.schedule import cards, fields, service
from bot.schedule.models import TITLES

ADD = {"添加", "新增", "add"}
REMOVE = {"移除", "删除", "remove", "delete"}
LIST = {"", "列表", "查看", "list"}
TITLE_WORDS = {**{t: t for t in TITLES}, "streamer": "主播", "host": "主播", "assistant": "助播", "field": "场控",
               "console": "中控", "tech": "技术", "technician": "技术", "值班技术": "技术", "ops": "运营",
               "operator": "运营", "运营主管": "运营", "director": "编导", "writer": "文案", "ads": "投手"}


def title_of(word: str) -> str | None:
    return TITLE_WORDS.get(fields.norm(word))


@command("人员", "people", examples_en=["/people list", "/people add @小王 场控", "/people remove @小王"],
         summary=("团队人员与岗位（主播、场控、中控…）", "The team's people and job titles"),
         usage=("/人员 列表 [岗位] ｜ /人员 添加 @某人 场控 [主播 …] ｜ /人员 移除 @某人 [岗位]",
                "/people list [title] | /people add @someone 场控 [主播 …] | /people remove @someone [title]"),
         examples=["/人员 添加 @小王 场控", "/人员 列表", "/人员 移除 @小王"],
         aliases=("团队", "staff"), group=("排期", "Schedule"), order=22)
async def people_command(ctx: Ctx, args: str) -> None:
    text, names = mentions_of(ctx, args)
    verb, *words = text.split() or [""]
    low = verb.lower()
    if low in LIST or title_of(verb):
        word = verb if low not in LIST else (words[0] if words else "")
        title = title_of(word) if word else None
        if word and title is None:
            raise UserError("schedule.title_unknown", title=word[:20], choices="、".join(TITLES))
        staff = await service.list_staff(ctx.session, title=title)
        await ctx.reply(card=cards.staff_card(staff, ctx.locale, title or ""))
        return
    if low not in ADD | REMOVE:
        raise UsageError(ctx.t("schedule.people_usage"))
    ctx.require(roles.OPS)
    who = [w for w in words if w.startswith(("@", "＠"))]
    rest = [w for w in words if not w.startswith(("@", "＠"))]
    titles = []
    for word in rest:
        title = title_of(word)
        if title is None:
            if not who and low in ADD:  # "/人员 添加 小王 场控": a plain name
                who.append(word)
                continue
            raise UserError("schedule.title_unknown", title=word[:20], choices="、".join(TITLES))
        titles.append(title)
    if not who:
        raise UserError("schedule.people_need_person")
    lines = []
    for person in who:
        open_id, name = await resolve(ctx, person, names)
        if low in ADD:
            if not titles:
                raise UserError("schedule.people_need_title", choices="、".join(TITLES))
            member, new = await service.add_person(ctx.session, open_id=open_id, name=name, titles=titles,
                                                   by=ctx.user_id, now=ctx.now())
            key = "schedule.people_added" if new else "schedule.people_already"
            lines.append(ctx.t(key, name=member.name, titles="/".join(member.titles)))
        else:
            member = await service.remove_person(ctx.session, open_id, titles or None)
            if member is None:
                lines.append(ctx.t("schedule.people_not_listed", name=name))
            elif member.active:
                lines.append(ctx.t("schedule.people_titles_left", name=member.name, titles="/".join(member.titles)))
            else:
                lines.append(ctx.t("schedule.people_removed", name=member.name))
    await ctx.reply("\n".join(lines))


async def resolve(ctx: Ctx, text: str, names: dict[str, str]) -> tuple[str, str]:
    """A real @mention, else a name the team list or the bot knows."""
    bare = text.lstrip("@＠")
    if bare in names:
        open_id = names[bare]
        mentioned = ctx.message.mentions if ctx.message else ()
        return open_id, next((m.name for m in mentioned if m.open_id == open_id), bare)
    return await service.find_person(ctx.session, text)
