"""/排期 绑定 多维表格 <链接> and /排期 多维表格: the schedule from the team's own Bitable.

    /排期 绑定 多维表格 https://xxx.feishu.cn/base/bascn…?table=tbl…   (ops) read it, show a preview
    /排期 多维表格                                    the binding: table, state, last read, write-back
    /排期 多维表格 同步 [10]                          (ops) read it now / every N minutes
    /排期 多维表格 写回 状态=直播状态 场观=场观人数      (ops) write status and figures back
    /排期 多维表格 解绑                               (ops) stop reading it

Binding reads the table (the bot must be a collaborator: 多维表格 … → 添加文档应用) and shows what
it would add, change and cancel and every row it cannot read, without changing anything; ops
confirm with the card's button. Then the table is read again every ``every_minutes`` (10), each
change applied with the same conflict rules and change cards as a typed edit, and each row that
cannot be applied reported once.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot import roles
from bot.access import Scope
from bot.bitable import apply, read, writeback
from bot.bitable.models import ACTIVE, OFF, PENDING, BitableBinding
from bot.cards import Button, Card, escape_md
from bot.commands.registry import card_action
from bot.commands.schedule import SCHEDULE, announce, max_hours, team_chat
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.feishu.events import CardAction
from bot import timers
from bot.timers.recurrence import Recurrence
from bot.schedule import service

KIND = "bitable.sync"
WORDS = {"多维表格", "bitable", "base"}
MAX_LINES = 15
CONFIRM = card_action("bitable.confirm", label=("确认绑定多维表格", "confirm the Bitable binding"), role=roles.OPS,
                      scope=Scope.TEAM)
DISCARD = card_action("bitable.discard", label=("放弃绑定多维表格", "drop the Bitable binding"), role=roles.OPS,
                      scope=Scope.TEAM)


@SCHEDULE.verb("绑定", "bind", role=roles.OPS, scope=Scope.TEAM, args=("多维表格 <链接>", "bitable <link>"),
               summary=("从团队的多维表格读排期", "Read the schedule from the team's Bitable"),
               examples=["/排期 绑定 多维表格 https://demo.feishu.cn/base/bascnLiveOpsDemo01?table=tblDemoSchedule01"],
               examples_en=["/schedule bind bitable https://demo.feishu.cn/base/bascnLiveOpsDemo01?table=tblDemoSchedule01"])
async def bind_verb(ctx: Ctx, rest: str) -> None:
    words = rest.split()
    if len(words) < 2 or words[0].lower() not in WORDS:
        raise UsageError(ctx.t("bt.bind_hint"))
    await bind(ctx, words[1])


@SCHEDULE.verb("多维表格", "bitable", when=lambda rest: not rest.strip(), scope=Scope.TEAM,
               summary=("看绑定的多维表格", "See the bound Bitable"), examples=["/排期 多维表格"],
               examples_en=["/schedule bitable"])
async def show_verb(ctx: Ctx, rest: str) -> None:
    await show(ctx)


@SCHEDULE.verb("多维表格", "bitable", role=roles.OPS, scope=Scope.TEAM,
               args=("同步 [分钟] ｜ 写回 状态=列名 场观=列名 ｜ 解绑", "sync [minutes] | writeback 状态=column | unbind"),
               summary=("同步、写回、解绑多维表格", "Sync, write back, unbind the Bitable"),
               examples=["/排期 多维表格 同步", "/排期 多维表格 写回 状态=直播状态"],
               examples_en=["/schedule bitable sync"])
async def change_verb(ctx: Ctx, rest: str) -> None:
    await change(ctx, rest)


# -- binding -------------------------------------------------------------------------------------------
async def current(ctx: Ctx, chat: str, statuses=(ACTIVE,)) -> BitableBinding | None:
    return (await ctx.session.execute(select(BitableBinding).where(
        BitableBinding.chat_id == chat, BitableBinding.status.in_(statuses)).order_by(BitableBinding.id.desc())
    )).scalars().first()


async def fetch(ctx: Ctx, app_token: str, table_id: str) -> read.Table:
    try:
        return await read.read_table(ctx.svc.platform, app_token, table_id, ctx.svc.settings.timezone)
    except read.ReadError as exc:
        raise UserError(f"bt.read_{exc.kind}", code=exc.code if exc.code is not None else "-") from None


async def bind(ctx: Ctx, link: str) -> None:
    app_token, table_id = read.parse_link(link)
    chat = await team_chat(ctx)
    table = await fetch(ctx, app_token, table_id)
    binding = BitableBinding(chat_id=chat, app_token=app_token, table_id=table_id, link=link[:500], status=PENDING,
                             created_by=ctx.user_id, created_at=ctx.now())
    ctx.session.add(binding)
    await ctx.session.flush()
    outcome = await run(ctx, binding, table, dry=True)
    await ctx.reply(card=preview_card(ctx, binding, outcome))


async def run(ctx: Ctx, binding: BitableBinding, table: read.Table, *, dry: bool) -> apply.Outcome:
    return await apply.apply(ctx.session, binding, table, locale=ctx.locale, tz=ctx.svc.settings.timezone,
                             today=ctx.local_now().date(), now=ctx.now(), max_hours=max_hours(ctx), dry=dry)


def _lines(ctx: Ctx, changes: list[apply.Change], kind: str) -> str:
    picked = [c for c in changes if c.kind == kind]
    lines = [f"- {escape_md(c.label)}" for c in picked[:MAX_LINES]]
    if len(picked) > MAX_LINES:
        lines.append(ctx.t("bt.more", n=len(picked) - MAX_LINES))
    return "\n".join(lines)


def _problems(ctx: Ctx, problems: list[apply.Problem]) -> str:
    lines = [ctx.t("bt.problem_line", row=p.row, what=escape_md(p.what) or "-", reason=escape_md(p.reason))
             for p in problems[:MAX_LINES]]
    if len(problems) > MAX_LINES:
        lines.append(ctx.t("bt.more", n=len(problems) - MAX_LINES))
    return "\n".join(lines)


def preview_card(ctx: Ctx, binding: BitableBinding, out: apply.Outcome) -> Card:
    card = Card(ctx.t("bt.preview_title"), template="blue", subtitle=binding.app_token)
    card.markdown(ctx.t("bt.preview_counts", add=out.count("added"), change=out.count("changed"),
                        cancel=out.count("cancelled"), same=out.unchanged, bad=len(out.problems)))
    for kind in ("added", "changed", "cancelled"):
        body = _lines(ctx, out.changes, kind)
        if body:
            card.markdown(f"**{ctx.t('bt.head_' + kind)}**\n{body}")
    if out.problems:
        card.markdown(f"**{ctx.t('bt.head_problems')}**\n{_problems(ctx, out.problems)}")
    card.note(ctx.t("bt.preview_note"))
    card.buttons(Button(ctx.t("bt.confirm_button"), CONFIRM(id=binding.id), kind="primary"),
                 Button(ctx.t("bt.discard_button"), DISCARD(id=binding.id)))
    return card


async def _binding_of(ctx: Ctx, act: CardAction) -> BitableBinding:
    try:
        binding = await ctx.session.get(BitableBinding, int(act.value.get("id", 0)))
    except (TypeError, ValueError):
        binding = None
    if binding is None:
        raise UserError("access.stale_button")
    return binding


@CONFIRM.handle
async def confirm(ctx: Ctx, act: CardAction) -> None:
    binding = await _binding_of(ctx, act)
    if binding.status != PENDING:
        ctx.toast(ctx.t("bt.already", state=ctx.t(f"bt.state_{binding.status}")))
        return
    table = await fetch(ctx, binding.app_token, binding.table_id)
    for old in (await ctx.session.execute(select(BitableBinding).where(
            BitableBinding.chat_id == binding.chat_id, BitableBinding.status == ACTIVE))).scalars():
        old.status = OFF
        await timers.cancel(ctx.session, timer_key(old.id))
    outcome = await run(ctx, binding, table, dry=False)
    binding.status, binding.confirmed_at, binding.synced_at = ACTIVE, ctx.now(), ctx.now()
    await plan(ctx, binding)
    ctx.toast(ctx.t("bt.confirmed_toast"), "success")
    card = Card(ctx.t("bt.bound_title"), template="green", subtitle=binding.app_token)
    card.markdown(ctx.t("bt.applied_counts", add=outcome.count("added"), change=outcome.count("changed"),
                        cancel=outcome.count("cancelled"), same=outcome.unchanged, bad=len(outcome.problems)))
    if outcome.problems:
        card.markdown(f"**{ctx.t('bt.head_problems')}**\n{_problems(ctx, outcome.problems)}")
    card.note(ctx.t("bt.bound_note", minutes=binding.every_minutes))
    ctx.respond_card(card)


@DISCARD.handle
async def discard(ctx: Ctx, act: CardAction) -> None:
    binding = await _binding_of(ctx, act)
    if binding.status == PENDING:
        binding.status = OFF
    ctx.toast(ctx.t("bt.discarded"))
    ctx.respond_card(Card(ctx.t("bt.preview_title"), template="grey").markdown(ctx.t("bt.discarded")))


# -- reading again on a timer ----------------------------------------------------------------------------
def timer_key(binding_id: int) -> str:
    return f"{KIND}:{binding_id}"


async def plan(ctx: Ctx, binding: BitableBinding) -> None:
    minutes = max(1, binding.every_minutes)
    await timers.schedule(ctx.session, key=timer_key(binding.id), kind=KIND, due=ctx.now() + timedelta(minutes=minutes),
                          rule=Recurrence.interval(minutes, tz="UTC"), chat_id=binding.chat_id,
                          ref=timer_key(binding.id), payload={"binding": binding.id},
                          created_by=binding.created_by, stale_after=timedelta(minutes=minutes))


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    binding = await ctx.session.get(BitableBinding, int((timer.payload or {}).get("binding", 0)))
    if binding is not None and binding.status == ACTIVE:
        await sync(ctx, binding, tell_unchanged=False)


async def sync(ctx: Ctx, binding: BitableBinding, *, tell_unchanged: bool) -> None:
    """Read the table and apply what changed; announce each change like a typed edit; report
    each new problem once, and a read error once until it is gone."""
    try:
        table = await read.read_table(ctx.svc.platform, binding.app_token, binding.table_id, ctx.svc.settings.timezone)
    except read.ReadError as exc:
        problem = f"read:{exc.kind}"
        if binding.problem != problem and exc.kind != "temporary":
            binding.problem = problem
            await ctx.send(binding.chat_id, ctx.t(f"bt.read_{exc.kind}", code=exc.code or "-"))
        return
    binding.problem = ""
    try:
        outcome = await run(ctx, binding, table, dry=False)
    except UserError as exc:  # the table no longer looks like a schedule
        if binding.problem != exc.key:
            binding.problem = exc.key[:64]
            await ctx.send(binding.chat_id, ctx.t(exc.key, **exc.values))
        return
    binding.synced_at = ctx.now()
    who = ctx.t("bt.by")
    for change in outcome.changes:
        stream = await service.stream_by_id(ctx.session, change.stream_id)
        if stream is not None:
            await announce(ctx, change.kind, stream, diff=change.diff or None, also=change.before_people,
                           reason=change.reason, by=who)
    if outcome.new_problems:
        card = Card(ctx.t("bt.problems_title"), template="orange")
        card.markdown(_problems(ctx, outcome.new_problems))
        card.note(ctx.t("bt.problems_note"))
        await ctx.send(binding.chat_id, card=card)
    await writeback.plan(ctx.session, binding, table, ctx.svc.settings.timezone)
    if tell_unchanged:
        await ctx.reply(ctx.t("bt.synced", add=outcome.count("added"), change=outcome.count("changed"),
                              cancel=outcome.count("cancelled"), bad=len(outcome.problems)))


# -- showing and changing ------------------------------------------------------------------------------
async def show(ctx: Ctx) -> None:
    chat = await team_chat(ctx)
    binding = await current(ctx, chat, (ACTIVE, PENDING))
    if binding is None:
        await ctx.reply(ctx.t("bt.none", cmd=ctx.cmd("/排期 绑定 多维表格 <链接>")))
        return
    when = binding.synced_at.astimezone(ctx.svc.tz).strftime("%m-%d %H:%M") if binding.synced_at else "-"
    card = Card(ctx.t("bt.show_title"), template="blue", subtitle=binding.app_token)
    card.markdown(ctx.t("bt.show_body", state=ctx.t(f"bt.state_{binding.status}"), link=binding.link,
                        minutes=binding.every_minutes, synced=when, wb=writeback.describe(binding, ctx.locale)))
    await ctx.reply(card=card)


async def change(ctx: Ctx, rest: str) -> None:
    words = rest.split()
    head = words[0].lower() if words else ""
    chat = await team_chat(ctx)
    binding = await current(ctx, chat)
    if binding is None:
        raise UserError("bt.none", cmd=ctx.cmd("/排期 绑定 多维表格 <链接>"))
    if head in ("同步", "sync"):
        if len(words) > 1:
            if not words[1].isdigit() or not 1 <= int(words[1]) <= 24 * 60:
                raise UserError("cal.bad_minutes", value=words[1][:10], max=24 * 60)
            binding.every_minutes = int(words[1])
            await plan(ctx, binding)
            await ctx.reply(ctx.t("bt.every_set", minutes=binding.every_minutes))
            return
        await sync(ctx, binding, tell_unchanged=True)
    elif head in ("写回", "writeback", "write-back"):
        binding.writeback = await writeback.parse_pairs(ctx.session, chat, " ".join(words[1:]))
        await ctx.reply(ctx.t("bt.wb_set", what=writeback.describe(binding, ctx.locale)))
    elif head in ("解绑", "unbind", "关", "off"):
        binding.status = OFF
        await timers.cancel(ctx.session, timer_key(binding.id))
        await ctx.reply(ctx.t("bt.unbound"))
    else:
        raise UsageError(ctx.t("bt.usage"))
