"""/人员 (/people): the team's people and their job titles (主播, 场控, 中控 …), used to
resolve names in schedules and to know who does what. Everyone may list; adding and
removing needs the ops role. Job titles are not permissions: see /角色 for those."""
from __future__ import annotations

from bot import roles
from bot.access import Scope
from bot.commands.registry import command_group
from bot.commands.schedule import mentions_of
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.schedule import cards, fields, service
from bot.schedule.models import TITLES

TITLE_WORDS = {**{t: t for t in TITLES}, "streamer": "主播", "host": "主播", "assistant": "助播", "field": "场控",
               "console": "中控", "tech": "技术", "technician": "技术", "值班技术": "技术", "ops": "运营",
               "operator": "运营", "运营主管": "运营", "director": "编导", "writer": "文案", "ads": "投手"}


def title_of(word: str) -> str | None:
    return TITLE_WORDS.get(fields.norm(word))


PEOPLE = command_group("人员", "people", summary=("团队人员与岗位（主播、场控、中控…）", "The team's people and job titles"),
                       aliases=("团队", "staff"), group=("排期", "Schedule"), order=22)


def _is_listing(rest: str) -> bool:
    words = rest.split()
    return not words or (len(words) == 1 and title_of(words[0]) is not None)


@PEOPLE.verb("列表", "list", aliases=("查看",), default=True, scope=Scope.TEAM, accepts=_is_listing,
             args=("[岗位]", "[title]"), summary=("团队名单（可按岗位）", "The team list (by title)"),
             examples=["/人员 列表", "/人员 场控"], examples_en=["/people list"])
async def list_people(ctx: Ctx, args: str) -> None:
    words = args.split()
    if len(words) > 1:
        raise UsageError(ctx.t("schedule.people_usage"))
    word = words[0] if words else ""
    title = title_of(word) if word else None
    if word and title is None:
        raise UserError("schedule.title_unknown", title=word[:20], choices="、".join(TITLES))
    staff = await service.list_staff(ctx.session, title=title)
    card = cards.staff_card(staff, ctx.locale, title or "")
    if title is None:  # who is leaving (hand-over checklist) and the newbies' growth plans (issue 19)
        from bot.norms.people_norms import people_section

        await people_section(ctx, card)
    await ctx.reply(card=card)


@PEOPLE.verb("添加", "add", aliases=("新增",), role=roles.OPS, scope=Scope.TEAM,
             args=("@某人 场控 [主播 …]", "@someone 场控 [主播 …]"), summary=("加人或加岗位", "Add a person or a title"),
             examples=["/人员 添加 @小王 场控"], examples_en=["/people add @小王 场控"])
async def add_people(ctx: Ctx, args: str) -> None:
    await _change(ctx, args, adding=True)


@PEOPLE.verb("移除", "remove", aliases=("删除", "delete"), role=roles.OPS, scope=Scope.TEAM,
             args=("@某人 [岗位]", "@someone [title]"), summary=("移除人或岗位", "Remove a person or a title"),
             examples=["/人员 移除 @小王"], examples_en=["/people remove @小王"])
async def remove_people(ctx: Ctx, args: str) -> None:
    await _change(ctx, args, adding=False)


async def _change(ctx: Ctx, args: str, *, adding: bool) -> None:
    text, names = mentions_of(ctx, args)
    words = text.split()
    who = [w for w in words if w.startswith(("@", "＠"))]
    rest = [w for w in words if not w.startswith(("@", "＠"))]
    titles = []
    for word in rest:
        title = title_of(word)
        if title is None:
            if not who and adding:  # "/人员 添加 小王 场控": a plain name
                who.append(word)
                continue
            raise UserError("schedule.title_unknown", title=word[:20], choices="、".join(TITLES))
        titles.append(title)
    if not who:
        raise UserError("schedule.people_need_person")
    lines = []
    for person in who:
        open_id, name = await resolve(ctx, person, names)
        if adding:
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
