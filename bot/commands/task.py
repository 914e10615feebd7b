"""/任务 (/task): tasks with owners and deadlines, their reminders, hand-over and KPI.

    /任务 新建 完成主播话术培训 @小王 7月15日前      /任务 我的 | 本群 | 逾期
    /任务 完成 12 | 开始 12 | 重开 12 | 取消 12 原因      /任务 #12
    /任务 转交 12 @小李 | 延期 12 下周一前 原因：等样品 | 评论 12 已约好培训老师
    /任务 交接 @小王 @小李        /任务 统计 本月        /任务 设置 主管 @王运营 | 升级 3 | 飞书任务 开
And as a reply to any message: "@LiveOps 记为任务 @小王 周五前".
"""
from __future__ import annotations

import re
from datetime import datetime

from bot import records, roles
from bot.access import Scope
from bot.commands.registry import command_group, on_mention
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.feishu.events import CardAction, IncomingMessage
from bot.people import names as names_of
from bot.timeparse.parser import format_local
from bot.norms import adhoc
from bot.tasks import cards, notify, parse, service
from bot.tasks.show import card_for, refresh
from bot.tasks.models import MESSAGE, Task

REASON = re.compile(r"(?:原因|理由|because|reason)\s*[:：]?\s*", re.I)
REPLY_WORDS = re.compile(r"^\s*(记为任务|记成任务|记作任务|转为任务|转成任务|建个?任务|设为任务|"
                         r"make (?:it )?(?:a )?task|create (?:a )?task|as (?:a )?task)", re.I)

TASK = command_group("任务", "task", summary=("任务：负责人、截止时间、提醒与统计", "Tasks with owners, deadlines and reminders"),
                     aliases=("待办", "todo", "tasks"), group=("复盘与任务", "Reviews & tasks"), order=41)


@TASK.verb("新建", "new", aliases=("新增", "创建", "添加", "add", "create"), scope=Scope.TEAM,
           args=("<内容> @负责人 <截止时间>", "<what> @owner <deadline>"), summary=("新建任务", "Create a task"),
           examples=["/任务 新建 完成主播话术培训 @小王 7月15日前"],
           examples_en=["/task new update the script @Li by friday"])
async def new_task(ctx: Ctx, rest: str) -> None:
    await create(ctx, rest)


@TASK.verb("我的", "mine", aliases=("my",), default=True, scope=Scope.TEAM, accepts=lambda rest: not rest.strip(),
           summary=("我负责的任务", "My open tasks"), examples=["/任务 我的"], examples_en=["/task mine"])
async def mine(ctx: Ctx, rest: str) -> None:
    if rest.strip():
        raise UsageError(ctx.t("tasks.usage_hint"))
    await list_mine(ctx)


@TASK.verb("本群", "chat", aliases=("全部", "群", "all", "group"), scope=Scope.TEAM,
           summary=("本群的任务", "This chat's tasks"), examples=["/任务 本群"], examples_en=["/task chat"])
async def chat_tasks(ctx: Ctx, rest: str) -> None:
    await list_chat(ctx)


@TASK.verb("逾期", "overdue", aliases=("超期", "late"), scope=Scope.TEAM,
           summary=("本群逾期的任务", "This chat's overdue tasks"), examples=["/任务 逾期"], examples_en=["/task overdue"])
async def overdue_tasks(ctx: Ctx, rest: str) -> None:
    await list_overdue(ctx)


@TASK.verb("查看", "show", aliases=("详情", "view"), scope=Scope.RECORD, record=records.TASK,
           args=("<编号>", "<id>"), summary=("查看任务", "Show a task"), examples=["/任务 查看 12"],
           examples_en=["/task show 12"])
async def show_verb(ctx: Ctx, rest: str) -> None:
    await show(ctx, ctx.ref)


@TASK.verb("#编号", "#id", pattern=r"[#＃]?\d+", scope=Scope.RECORD, record=records.TASK,
           summary=("查看任务", "Show a task"), examples=["/任务 #12"], examples_en=["/task #12"])
async def show_by_id(ctx: Ctx, rest: str) -> None:
    if len(rest.split()) > 1:
        raise UsageError(ctx.t("tasks.usage_hint"))
    await show(ctx, ctx.ref)


def _change_verb(word: str, en: str, aliases: tuple[str, ...], summary: tuple[str, str], args: tuple[str, str],
                 example: str, example_en: str) -> None:
    async def verb(ctx: Ctx, rest: str) -> None:
        _, _, more = rest.partition(" ")
        await change(ctx, en, ctx.ref, more.strip())

    verb.__name__ = verb.__qualname__ = f"task_{en}"
    TASK.verb(word, en, aliases=aliases, scope=Scope.RECORD, record=records.TASK, args=args, summary=summary,
              examples=[example], examples_en=[example_en])(verb)


for _word, _en, _aliases, _summary, _args, _ex, _ex_en in (
        ("完成", "done", ("已完成", "complete", "finish"), ("标记完成", "Mark done"), ("<编号>", "<id>"),
         "/任务 完成 12", "/task done 12"),
        ("开始", "start", ("进行中", "doing"), ("标记进行中", "Mark started"), ("<编号>", "<id>"),
         "/任务 开始 12", "/task start 12"),
        ("重开", "reopen", ("重新打开",), ("重新打开", "Reopen"), ("<编号>", "<id>"), "/任务 重开 12", "/task reopen 12"),
        ("取消", "cancel", ("drop",), ("取消任务", "Cancel"), ("<编号> [原因]", "<id> [reason]"),
         "/任务 取消 12 不需要了", "/task cancel 12 no longer needed"),
        ("转交", "reassign", ("转派", "改派", "assign"), ("换负责人", "Give to someone else"),
         ("<编号> @某人", "<id> @someone"), "/任务 转交 12 @小李", "/task reassign 12 @小李"),
        ("延期", "extend", ("顺延", "postpone"), ("改截止时间（写原因）", "Move the deadline (with a reason)"),
         ("<编号> <新截止> 原因：…", "<id> <deadline> reason: …"), "/任务 延期 12 下周一前 原因：样品未到",
         "/task extend 12 by next monday reason: samples late"),
        ("评论", "comment", ("备注", "note"), ("写一条评论", "Add a comment"), ("<编号> <内容>", "<id> <text>"),
         "/任务 评论 12 已约好培训老师", "/task comment 12 trainer booked")):
    _change_verb(_word, _en, _aliases, _summary, _args, _ex, _ex_en)


@TASK.verb("交接", "handover", aliases=("hand-over",), role=roles.OPS, scope=Scope.TEAM,
           args=("@离开的人 @接手的人", "@leaving @taking-over"), summary=("把一个人的任务交给另一个人", "Hand someone's tasks over"),
           examples=["/任务 交接 @小王 @小李"], examples_en=["/task handover @小王 @小李"])
async def handover_verb(ctx: Ctx, rest: str) -> None:
    await handover(ctx, rest)


@TASK.verb("统计", "stats", aliases=("kpi",), scope=Scope.TEAM, args=("[本月|上月]", "[this month|last month]"),
           summary=("按时完成率", "On-time completion"), examples=["/任务 统计 本月"], examples_en=["/task stats this month"])
async def stats_verb(ctx: Ctx, rest: str) -> None:
    await stats(ctx, rest)


@TASK.verb("设置", "settings", aliases=("config",), when=lambda rest: not rest.strip(), scope=Scope.TEAM,
           summary=("本群的任务设置", "This chat's task settings"), examples=["/任务 设置"], examples_en=["/task settings"])
async def settings_show_verb(ctx: Ctx, rest: str) -> None:
    await settings(ctx, "")


@TASK.verb("设置", "settings", aliases=("config",), role=roles.OPS, scope=Scope.TEAM,
           args=("主管 @某人 | 升级 <天数> | 飞书任务 开|关", "lead @someone | escalate <days> | feishu on|off"),
           summary=("改本群的任务设置", "Change this chat's task settings"), examples=["/任务 设置 主管 @王运营"],
           examples_en=["/task settings escalate 3"])
async def settings_verb(ctx: Ctx, rest: str) -> None:
    await settings(ctx, rest)


# --------------------------------------------------------------------------- creating

async def create(ctx: Ctx, text: str, *, source: str = "manual", source_ref: str = "",
                 idem_key: str | None = None) -> Task | None:
    if not text.strip():
        raise UsageError(ctx.t("tasks.need_what"))
    line = await parse.read_line(ctx, text)
    if not line.title:
        raise UserError("tasks.need_title")
    key = idem_key or (f"msg:{ctx.message.message_id}" if ctx.message else None)
    if not line.owners:
        await ask_owner(ctx, line, source=source, source_ref=source_ref, adhoc_task=adhoc.is_adhoc(text))
        return None
    task, created = await service.create_task(
        ctx.session, chat_id=ctx.chat_id, title=line.title, owners=line.owners, due=line.due, by=ctx.user_id,
        now=ctx.now(), priority=line.priority, source=source, source_ref=source_ref, idem_key=key)
    if created:
        if adhoc.is_adhoc(text):  # 临时任务 / 紧急: a plan is asked for within 30 minutes (issue 19)
            await adhoc.start(ctx.session, task, ctx.now())
        await notify.assigned(ctx, task)
    return task


async def ask_owner(ctx: Ctx, line: parse.TaskLine, *, source: str, source_ref: str, adhoc_task: bool = False) -> None:
    group = await parse.members(ctx, ctx.chat_id)
    choices = sorted(((oid, name or oid[-6:]) for oid, name in group.items()), key=lambda p: p[1])
    payload = {"title": line.title[:300], "due": line.due.isoformat(), "p": line.priority,
               "src": source, "ref": source_ref[:100], **({"adhoc": 1} if adhoc_task else {})}
    await ctx.reply(card=cards.ask_owner_card(ctx.t, line.title, line.due, ctx.svc.tz, ctx.locale, choices, payload))


@cards.CREATE.handle
async def create_pressed(ctx: Ctx, act: CardAction) -> None:
    """The ask-whom card: one task per card however often it is pressed."""
    owner = str((act.form_value or {}).get("owner") or "")
    if not owner:
        raise UserError("tasks.need_owner")
    group = await parse.members(ctx, ctx.chat_id)
    if group and owner not in group:
        raise UserError("tasks.owner_not_in_group", name=owner[-6:])
    value = act.value
    task, created = await service.create_task(
        ctx.session, chat_id=ctx.chat_id, title=str(value.get("title", "")), owners=[owner],
        due=datetime.fromisoformat(str(value["due"])), by=ctx.user_id, now=ctx.now(),
        priority=str(value.get("p") or "normal"), source=str(value.get("src") or "manual"),
        source_ref=str(value.get("ref") or ""), idem_key=f"ask:{act.message_id}")
    if created:
        if value.get("adhoc"):
            await adhoc.start(ctx.session, task, ctx.now())
        await notify.assigned(ctx, task)
        card, _, _ = await card_for(ctx, task)
        await ctx.update_card(act.message_id, card)
    else:
        await ctx.reply(ctx.t("tasks.already_created", id=task.id))


def _is_reply_task(msg: IncomingMessage) -> bool:
    return bool(REPLY_WORDS.match(msg.text))


@on_mention(priority=10, match=_is_reply_task, scope=Scope.TEAM)
async def task_from_reply(ctx: Ctx, msg: IncomingMessage) -> bool:
    """A reply "@LiveOps 记为任务 @小王 周五前": the replied-to message becomes the task."""
    m = REPLY_WORDS.match(msg.text)
    if not m:
        return False
    if not msg.parent_id:
        raise UserError("tasks.reply_needs_parent")
    parent = await parse.message_text(ctx, msg.parent_id)
    if not parent:
        raise UserError("tasks.parent_unreadable")
    rest = msg.text[m.end():]
    line = await parse.read_line(ctx, rest)
    line.title = (line.title + " " if line.title else "") + parent
    line.title = line.title[:service.MAX_TITLE]
    if not line.owners:
        await ask_owner(ctx, line, source=MESSAGE, source_ref=msg.parent_id, adhoc_task=adhoc.is_adhoc(rest))
        return True
    task, created = await service.create_task(
        ctx.session, chat_id=ctx.chat_id, title=line.title, owners=line.owners, due=line.due, by=ctx.user_id,
        now=ctx.now(), priority=line.priority, source=MESSAGE, source_ref=msg.parent_id,
        idem_key=f"msg:{msg.message_id}")
    if created:
        if adhoc.is_adhoc(rest):
            await adhoc.start(ctx.session, task, ctx.now())
        await notify.assigned(ctx, task)
    return True


# --------------------------------------------------------------------------- lists

async def _list(ctx: Ctx, title: str, tasks: list[Task], empty: str) -> None:
    owners = await service.owners_of(ctx.session, [t.id for t in tasks])
    ids = sorted({o for os in owners.values() for o in os})
    names = await names_of(ctx, ids) if ids else {}
    await ctx.reply(card=cards.list_card(ctx.t, title, tasks, owners, names, ctx.svc.tz, ctx.locale, ctx.now(), empty))


async def list_mine(ctx: Ctx) -> None:
    await _list(ctx, ctx.t("tasks.mine_title"), await service.mine(ctx.session, ctx.user_id), ctx.t("tasks.mine_empty"))


async def list_chat(ctx: Ctx) -> None:
    await _list(ctx, ctx.t("tasks.chat_title"), await service.in_chat(ctx.session, ctx.chat_id),
                ctx.t("tasks.chat_empty"))


async def list_overdue(ctx: Ctx) -> None:
    await _list(ctx, ctx.t("tasks.overdue_title"), await service.overdue(ctx.session, ctx.chat_id, ctx.now()),
                ctx.t("tasks.overdue_empty"))


async def show(ctx: Ctx, task_id: int) -> None:
    task = await service.get_task(ctx.session, task_id)
    card, _, _ = await card_for(ctx, task)
    await ctx.reply(card=card)


# --------------------------------------------------------------------------- changes

async def may_change(ctx: Ctx, task: Task) -> list[str]:
    owners = (await service.owners_of(ctx.session, [task.id]))[task.id]
    if ctx.user_id in owners or ctx.user_id == task.created_by or roles.allowed(ctx.roles, roles.OPS):
        return owners
    raise UserError("tasks.not_yours", id=task.id)


async def change(ctx: Ctx, word: str, task_id: int, more: str, *, card_message: str | None = None) -> None:
    """One change to one task, by command or by card; answers with a line and fresh cards."""
    task = await service.get_task(ctx.session, task_id)
    before = await may_change(ctx, task)
    now, by = ctx.now(), ctx.user_id
    names = await names_of(ctx, [by])
    me = names.get(by, "")
    if word == "done":
        done = await service.complete(ctx.session, task, by=by, now=now)
        text = ctx.t("tasks.done" if done else "tasks.already_done", id=task.id, title=task.title[:60], who=me)
    elif word == "start":
        started = await service.start(ctx.session, task, by=by, now=now)
        text = ctx.t("tasks.started" if started else "tasks.already_started", id=task.id, who=me)
    elif word == "reopen":
        again = await service.reopen(ctx.session, task, by=by, now=now)
        text = ctx.t("tasks.reopened" if again else "tasks.already_open", id=task.id, who=me)
    elif word == "cancel":
        cancelled = await service.cancel(ctx.session, task, by=by, now=now, reason=more)
        text = ctx.t("tasks.cancelled" if cancelled else "tasks.already_cancelled", id=task.id, who=me)
    elif word == "comment":
        await service.comment(ctx.session, task, more, by=by, now=now)
        text = ctx.t("tasks.commented", id=task.id, who=me)
    elif word == "reassign":
        owners, _ = await parse.owners_in(ctx, more, chat_id=task.chat_id)
        if not owners:
            raise UserError("tasks.need_owner")
        await service.reassign(ctx.session, task, owners, by=by, now=now)
        new = [o for o in owners if o not in before]
        who = await names_of(ctx, owners)
        text = ctx.t("tasks.reassigned", id=task.id, to=cards.who(who, owners))
        await notify.assigned(ctx, task, announce=False, notify_owners=new)
    elif word == "extend":
        parts = REASON.split(more, maxsplit=1)
        when_text, reason = (parts[0], parts[1]) if len(parts) == 2 else (more, "")
        due, leftover = parse.deadline_in(ctx, when_text)
        reason = (reason or leftover).strip()
        old = await service.extend(ctx.session, task, due, reason=reason, by=by, now=now)
        text = ctx.t("tasks.extended", id=task.id, old=format_local(old, str(ctx.svc.tz), ctx.locale),
                     new=format_local(due, str(ctx.svc.tz), ctx.locale), reason=reason)
    else:
        raise UsageError(ctx.t("tasks.usage_hint"))
    await refresh(ctx, task, card_message)
    await ctx.reply(text)
    if task.chat_id and task.chat_id != ctx.chat_id and word in ("done", "reopen", "extend", "reassign", "cancel"):
        await ctx.send(task.chat_id, text)


def _card_verb(verb: str):
    async def pressed(ctx: Ctx, act: CardAction) -> None:
        task_id = ctx.ref
        form = act.form_value or {}
        note, due, owner = (str(form.get(k) or "").strip() for k in ("note", "due", "owner"))
        more = {"comment": note, "extend": f"{due} 原因：{note}" if note else due,
                "reassign": " ".join(f"@{w.lstrip('@＠')}" for w in owner.split())}.get(verb, "")
        if verb == "extend" and not due:
            raise UserError("tasks.need_new_due")
        await change(ctx, verb, task_id, more, card_message=act.message_id)

    return pressed


for _verb, _spec in cards.ACTIONS.items():
    _spec.handle(_card_verb(_verb))


# --------------------------------------------------------------------------- hand-over, KPI, settings

async def handover(ctx: Ctx, rest: str) -> None:
    # The leaver may already have left the group; the receiver must be in it.
    owners, _ = await parse.owners_in(ctx, rest, require_member=False)
    if len(owners) != 2:
        raise UserError("tasks.handover_need_two")
    who = await names_of(ctx, owners)
    owners.sort(key=lambda o: rest.find("@" + who.get(o, "\0")) % 10000)
    leaver, receiver = owners
    group = await parse.members(ctx, ctx.chat_id)
    if group and receiver not in group:
        raise UserError("tasks.owner_not_in_group", name=who.get(receiver, ""))
    result = await service.handover(ctx.session, leaver, receiver, by=ctx.user_id, now=ctx.now(), tz=ctx.svc.tz)
    who = await names_of(ctx, [leaver, receiver])
    if not result.tasks:
        await ctx.reply(ctx.t("tasks.handover_none", who=who[leaver]))
        return
    ids = "、".join(f"#{t.id}" for t in result.tasks)
    text = ctx.t("tasks.handover_done", n=len(result.tasks), leaver=who[leaver], receiver=who[receiver], ids=ids,
                 floor=format_local(result.floor, str(ctx.svc.tz), ctx.locale))
    if result.moved_due:
        text += "\n" + ctx.t("tasks.handover_moved", ids="、".join(f"#{i}" for i in result.moved_due))
    await ctx.reply(text)
    for task in result.tasks:
        await refresh(ctx, task, None)
    await ctx.dm(receiver, text)


async def stats(ctx: Ctx, rest: str) -> None:
    start, end, month = service.month_bounds(rest, ctx.now(), ctx.svc.tz)
    people, total = await service.month_stats(ctx.session, chat_id=ctx.chat_id, start=start, end=end, now=ctx.now())
    ids = [p.open_id for p in people]
    names = await names_of(ctx, ids) if ids else {}
    await ctx.reply(card=cards.stats_card(ctx.t, month, people, total, names))


async def settings(ctx: Ctx, rest: str) -> None:
    words = rest.split()
    current = await service.settings_for(ctx.session, ctx.chat_id)
    if not words:
        lead = (await names_of(ctx, [current.ops_lead])).get(current.ops_lead) if current.ops_lead else ""
        await ctx.reply(ctx.t("tasks.settings_show", lead=f"@{lead}" if lead else ctx.t("tasks.settings_lead_default"),
                              days=current.escalate_after_days,
                              mirror=ctx.t("tasks.on" if current.mirror else "tasks.off")))
        return
    key, value = words[0].lower(), " ".join(words[1:])
    if key in ("主管", "运营主管", "lead"):
        owners, _ = await parse.owners_in(ctx, value)
        if len(owners) != 1:
            raise UserError("tasks.settings_need_lead")
        await service.save_settings(ctx.session, ctx.chat_id, by=ctx.user_id, now=ctx.now(), ops_lead=owners[0])
    elif key in ("升级", "escalate", "escalation"):
        digits = re.sub(r"[^\d]", "", value)
        if not digits or not 1 <= int(digits) <= 30:
            raise UserError("tasks.settings_bad_days")
        await service.save_settings(ctx.session, ctx.chat_id, by=ctx.user_id, now=ctx.now(),
                                    escalate_after_days=int(digits))
    elif key in ("飞书任务", "同步", "mirror", "feishu"):
        on = value.strip().lower() in ("开", "开启", "打开", "on", "true", "yes", "1")
        off = value.strip().lower() in ("关", "关闭", "off", "false", "no", "0")
        if not on and not off:
            raise UserError("tasks.settings_bad_switch")
        await service.save_settings(ctx.session, ctx.chat_id, by=ctx.user_id, now=ctx.now(), mirror=on)
    else:
        raise UserError("tasks.settings_unknown", name=key[:20])
    await ctx.reply(ctx.t("tasks.settings_saved"))
    await settings(ctx, "")

