"""/值班 (/oncall): who is on call now, weekly rotations, one-day overrides."""
from __future__ import annotations

from datetime import timedelta

from bot import roles
from bot.cards import Card
from bot.access import Scope
from bot.commands.registry import command_group
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.faults import oncall, parse
from bot.faults.classify import Category, category_label
from bot.faults.flows import policy
from bot.people import names
from bot.timeparse.parser import PastTimeError, TimeParseError
from bot.timeparse.parser import parse as parse_time

ONCALL = command_group("值班", "oncall", summary=("查看和设置技术值班", "Who is on call; rotations and overrides"),
                       aliases=("轮值", "on-call"), group=("故障响应", "Faults"), order=31)


def _mentioned(ctx: Ctx) -> list[str]:
    return [m.open_id for m in (ctx.message.mentions if ctx.message else ()) if m.open_id]


@ONCALL.verb("查看", "show", aliases=("现在", "now"), default=True, scope=Scope.TEAM, accepts=lambda rest: not rest.strip(),
             summary=("现在谁值班", "Who is on call now"), examples=["/值班"], examples_en=["/oncall"])
async def show_verb(ctx: Ctx, rest: str) -> None:
    if rest.strip():
        raise UsageError(ctx.t("oncall.hint"))
    await _show(ctx)


@ONCALL.verb("设置", "set", aliases=("排班", "rotation"), role=roles.TECH, scope=Scope.TEAM,
             args=("[全部|类别] @甲 @乙 …", "[all|category] @A @B …"), summary=("按周轮换", "Weekly rotation"),
             examples=["/值班 设置 全部 @赵技术 @孙技术"], examples_en=["/oncall set all @赵技术 @孙技术"])
async def set_verb(ctx: Ctx, rest: str) -> None:
    await _set(ctx, rest, _mentioned(ctx))


@ONCALL.verb("替班", "override", aliases=("代班", "换班", "swap", "cover"), role=roles.TECH, scope=Scope.TEAM,
             args=("<哪天> @替班的人 替 @原来的人", "<day> @cover for @original"), summary=("某天替班", "One-day cover"),
             examples=["/值班 替班 下周二 @小王 替 @小李"], examples_en=["/oncall override next tuesday @小王 for @小李"])
async def swap_verb(ctx: Ctx, rest: str) -> None:
    await _swap(ctx, rest, _mentioned(ctx))


@ONCALL.verb("清除", "clear", aliases=("删除", "remove"), role=roles.TECH, scope=Scope.TEAM, args=("[类别]", "[category]"),
             summary=("清除轮换", "Clear a rotation"), examples=["/值班 清除"], examples_en=["/oncall clear"])
async def clear_verb(ctx: Ctx, rest: str) -> None:
    category = _category(rest.strip()) if rest.strip() else oncall.ALL
    done = await oncall.clear_rotation(ctx.session, category)
    await ctx.reply(ctx.t("oncall.cleared" if done else "oncall.nothing", what=_label(ctx, category)))


def _category(word: str) -> str:
    if word.lower() in parse.ALL_WORDS:
        return oncall.ALL
    found = parse.category_of(word)
    if found is None:
        raise UserError("oncall.unknown_category", word=word[:20])
    return found.value


def _label(ctx: Ctx, category: str) -> str:
    return category_label(Category(category), ctx.locale) if category else ctx.t("oncall.all")


async def _set(ctx: Ctx, rest: str, people: list[str]) -> None:
    words = [w for w in rest.split() if not w.startswith("@")]
    category = _category(words[0]) if words else oncall.ALL
    if not people:
        raise UserError("oncall.need_people")
    start = oncall.monday(ctx.local_now().date())
    await oncall.set_rotation(ctx.session, category=category, members=list(dict.fromkeys(people)),
                              starts_on=start, by=ctx.user_id, now=ctx.now())
    who = await names(ctx, people)
    order = " → ".join(who[p] for p in dict.fromkeys(people))
    await ctx.reply(ctx.t("oncall.set", what=_label(ctx, category), order=order))


async def _swap(ctx: Ctx, rest: str, people: list[str]) -> None:
    if not people:
        raise UserError("oncall.need_people")
    text = " ".join(w for w in rest.split() if not w.startswith("@") and w not in ("替", "for", "替换"))
    category = oncall.ALL
    words = text.split()
    if words and (words[-1].lower() in parse.ALL_WORDS or parse.category_of(words[-1])):
        category = _category(words[-1])
        text = " ".join(words[:-1])
    try:
        when = parse_time(text or "今天", ctx.now(), str(ctx.svc.tz), ctx.locale).when
    except PastTimeError as exc:  # "今天": the default 09:00 may have passed; the day is what counts
        when = exc.when
    except TimeParseError:
        raise UserError("oncall.bad_day", text=text[:30]) from None
    day = when.astimezone(ctx.svc.tz).date()
    if day < ctx.local_now().date():
        raise UserError("oncall.past_day", day=day.isoformat())
    cover, replaced = people[0], (people[1] if len(people) > 1 else "")
    await oncall.add_override(ctx.session, day=day, open_id=cover, replaces=replaced, category=category,
                              by=ctx.user_id, now=ctx.now())
    who = await names(ctx, [p for p in (cover, replaced) if p])
    await ctx.reply(ctx.t("oncall.swapped", day=f"{day:%m-%d}", weekday=ctx.t(f"oncall.wd{day.weekday()}"),
                          cover=who[cover], replaced=who.get(replaced) or ctx.t("oncall.whoever"),
                          what=_label(ctx, category)))


async def _show(ctx: Ctx) -> None:
    today = ctx.local_now().date()
    rotations = await oncall.rotations(ctx.session)
    overrides = await oncall.overrides(ctx.session, today, 7)
    card = Card(ctx.t("oncall.title"), template="wathet")
    office = policy(ctx).office_hours(ctx.now(), ctx.svc.tz)
    card.markdown(ctx.t("oncall.office" if office else "oncall.off_hours"))
    if not rotations:
        card.markdown(ctx.t("oncall.none"))
    ids = {p for r in rotations for p in r.members} | {o.open_id for o in overrides} | {o.replaces for o in overrides}
    who = await names(ctx, sorted(i for i in ids if i)) if ids else {}
    lines = []
    for r in rotations:
        duty = oncall.on_call(rotations, overrides, r.category, today)
        nxt = oncall.on_call(rotations, [], r.category, oncall.monday(today) + timedelta(days=7))
        lines.append(ctx.t("oncall.line", what=_label(ctx, r.category), primary=who.get(duty.primary, "-"),
                           backup=who.get(duty.backup, "-"), next=who.get(nxt.primary, "-"),
                           order=" → ".join(who.get(p, p) for p in r.members)))
    if lines:
        card.markdown("\n".join(lines))
    if overrides:
        card.markdown(f"**{ctx.t('oncall.overrides')}**\n" + "\n".join(
            f"- {o.day[5:]} {_label(ctx, o.category)}：{who.get(o.open_id, '-')}"
            + (f" ← {who.get(o.replaces, '-')}" if o.replaces else "") for o in overrides))
    card.note(ctx.t("oncall.hint"))
    await ctx.reply(card=card)
