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

from bot import roles
from bot.commands.registry import action, command, on_mention
from bot.context import Ctx
from bot.errors import PermissionDenied, UsageError, UserError
from bot.feishu.events import CardAction, IncomingMessage
from bot.people import names as names_of
from bot.reminders.timeparse import format_local
from bot.tasks import cards, notify, parse, reminders, service  # noqa: F401  (reminders: timer handlers)
from bot.tasks.models import MESSAGE, Task

NEW = {"新建", "新增", "创建", "添加", "new", "add", "create"}
MINE = {"我的", "mine", "my", ""}
CHAT = {"本群", "全部", "群", "chat", "all", "group"}
OVERDUE = {"逾期", "超期", "overdue", "late"}
DONE = {"完成", "已完成", "done", "complete", "finish"}
START = {"开始", "进行中", "start", "doing"}
REOPEN = {"重开", "重新打开", "reopen"}
CANCEL = {"取消", "cancel", "drop"}
REASSIGN = {"转交", "转派", "改派", "reassign", "assign"}
EXTEND = {"延期", "顺延", "extend", "postpone"}
COMMENT = {"评论", "备注", "comment", "note"}
HANDOVER = {"交接", "handover", "hand-over"}
STATS = {"统计", "stats", "kpi"}
SETTINGS = {"设置", "settings", "config"}
SHOW = {"查看", "详情", "show", "view"}
REASON = re.compile(r"(?:原因|理由|because|reason)\s*[:：]?\s*", re.I)
REPLY_WORDS = re.compile(r"^\s*(记为任务|记成任务|记作任务|转为任务|转成任务|建个?任务|设为任务|"
                         r"make (?:it )?(?:a )?task|create (?:a )?task|as (?:a )?task)", re.I)


@command("任务", "task", examples_en=["/task new update the script @Li by friday", "/task mine", "/task done 12", "/task stats this month"],
         summary=("任务：负责人、截止时间、提醒与统计", "Tasks with owners, deadlines and reminders"),
         usage=("/任务 新建 <内容> @负责人 <截止时间> ｜ 我的 ｜ 本群 ｜ 逾期 ｜ 完成/开始/重开/取消 <编号> ｜ "
                "转交 <编号> @某人 ｜ 延期 <编号> <新截止> 原因：… ｜ 评论 <编号> <内容> ｜ 交接 @离开的人 @接手的人 ｜ "
                "统计 本月 ｜ 设置",
                "/task new <what> @owner <deadline> | mine | chat | overdue | done/start/reopen/cancel <id> | "
                "reassign <id> @someone | extend <id> <deadline> reason: … | comment <id> <text> | "
                "handover @leaving @taking-over | stats this month | settings"),
         examples=["/任务 新建 完成主播话术培训 @小王 7月15日前", "/任务 我的", "/任务 完成 12",
                   "/任务 延期 12 下周一前 原因：样品未到", "/任务 交接 @小王 @小李", "/任务 统计 本月",
                   "/task new update the script @Li by friday"],
         aliases=("待办", "todo", "tasks"), group=("复盘与任务", "Reviews & tasks"), order=41)
async def task_command(ctx: Ctx, args: str) -> None:
    verb, _, rest = args.strip().partition(" ")
    word, rest = verb.lower(), rest.strip()
    if parse.task_ref(verb) is not None and not rest:
        await show(ctx, parse.task_ref(verb))
    elif word in NEW:
        await create(ctx, rest)
    elif word in MINE:
        await list_mine(ctx)
    elif word in CHAT:
        await list_chat(ctx)
    elif word in OVERDUE:
        await list_overdue(ctx)
    elif word in STATS:
        await stats(ctx, rest)
    elif word in SETTINGS:
        await settings(ctx, rest)
    elif word in HANDOVER:
        await handover(ctx, rest)
    elif word in SHOW | DONE | START | REOPEN | CANCEL | REASSIGN | EXTEND | COMMENT:
        ref, _, more = rest.partition(" ")
        task_id = parse.task_ref(ref)
        if task_id is None:
            raise UserError("tasks.need_id")
        await change(ctx, word, task_id, more.strip())
    else:
        raise UsageError(ctx.t("tasks.usage_hint"))


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
        await ask_owner(ctx, line, source=source, source_ref=source_ref)
        return None
    task, created = await service.create_task(
        ctx.session, chat_id=ctx.chat_id, title=line.title, owners=line.owners, due=line.due, by=ctx.user_id,
        now=ctx.now(), priority=line.priority, source=source, source_ref=source_ref, idem_key=key)
    if created:
        await notify.assigned(ctx, task)
    return task


async def ask_owner(ctx: Ctx, line: parse.TaskLine, *, source: str, source_ref: str) -> None:
    group = await parse.members(ctx, ctx.chat_id)
    choices = sorted(((oid, name or oid[-6:]) for oid, name in group.items()), key=lambda p: p[1])
    payload = {"title": line.title[:300], "due": line.due.isoformat(), "p": line.priority,
               "src": source, "ref": source_ref[:100]}
    await ctx.reply(card=cards.ask_owner_card(ctx.t, line.title, line.due, ctx.svc.tz, ctx.locale, choices, payload))


@action("task.create")
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
        await notify.assigned(ctx, task)
        card, _, _ = await notify.card_for(ctx, task)
        await ctx.update_card(act.message_id, card)
    else:
        await ctx.reply(ctx.t("tasks.already_created", id=task.id))


@on_mention
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
        await ask_owner(ctx, line, source=MESSAGE, source_ref=msg.parent_id)
        return True
    task, created = await service.create_task(
        ctx.session, chat_id=ctx.chat_id, title=line.title, owners=line.owners, due=line.due, by=ctx.user_id,
        now=ctx.now(), priority=line.priority, source=MESSAGE, source_ref=msg.parent_id,
        idem_key=f"msg:{msg.message_id}")
    if created:
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
    card, _, _ = await notify.card_for(ctx, task)
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
    if word in SHOW:
        await show(ctx, task_id)
        return
    before = await may_change(ctx, task)
    now, by = ctx.now(), ctx.user_id
    names = await names_of(ctx, [by])
    me = names.get(by, "")
    if word in DONE:
        done = await service.complete(ctx.session, task, by=by, now=now)
        text = ctx.t("tasks.done" if done else "tasks.already_done", id=task.id, title=task.title[:60], who=me)
    elif word in START:
        started = await service.start(ctx.session, task, by=by, now=now)
        text = ctx.t("tasks.started" if started else "tasks.already_started", id=task.id, who=me)
    elif word in REOPEN:
        again = await service.reopen(ctx.session, task, by=by, now=now)
        text = ctx.t("tasks.reopened" if again else "tasks.already_open", id=task.id, who=me)
    elif word in CANCEL:
        cancelled = await service.cancel(ctx.session, task, by=by, now=now, reason=more)
        text = ctx.t("tasks.cancelled" if cancelled else "tasks.already_cancelled", id=task.id, who=me)
    elif word in COMMENT:
        await service.comment(ctx.session, task, more, by=by, now=now)
        text = ctx.t("tasks.commented", id=task.id, who=me)
    elif word in REASSIGN:
        owners, _ = await parse.owners_in(ctx, more, chat_id=task.chat_id)
        if not owners:
            raise UserError("tasks.need_owner")
        await service.reassign(ctx.session, task, owners, by=by, now=now)
        new = [o for o in owners if o not in before]
        who = await names_of(ctx, owners)
        text = ctx.t("tasks.reassigned", id=task.id, to=cards.who(who, owners))
        await notify.assigned(ctx, task, announce=False, notify_owners=new)
    elif word in EXTEND:
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
    if task.chat_id and task.chat_id != ctx.chat_id and word in DONE | REOPEN | EXTEND | REASSIGN | CANCEL:
        await ctx.send(task.chat_id, text)


async def refresh(ctx: Ctx, task: Task, card_message: str | None) -> None:
    card, _, _ = await notify.card_for(ctx, task)
    if card_message:
        await ctx.update_card(card_message, card)
    if task.card_key:
        await ctx.update_card(f"@{task.card_key}", card, chat_id=task.chat_id)


def _card_verb(verb: str):
    async def pressed(ctx: Ctx, act: CardAction) -> None:
        task_id = int(act.value.get("id", 0))
        form = act.form_value or {}
        note, due, owner = (str(form.get(k) or "").strip() for k in ("note", "due", "owner"))
        more = {"comment": note, "extend": f"{due} 原因：{note}" if note else due,
                "reassign": " ".join(f"@{w.lstrip('@＠')}" for w in owner.split())}.get(verb, "")
        if verb == "extend" and not due:
            raise UserError("tasks.need_new_due")
        await change(ctx, verb, task_id, more, card_message=act.message_id)

    return pressed


for _verb in ("done", "start", "reopen", "comment", "extend", "reassign"):
    action(f"task.{_verb}")(_card_verb(_verb))


# --------------------------------------------------------------------------- hand-over, KPI, settings

async def handover(ctx: Ctx, rest: str) -> None:
    if not roles.allowed(ctx.roles, roles.OPS):
        raise PermissionDenied(roles.OPS)
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
    if not roles.allowed(ctx.roles, roles.OPS):
        raise PermissionDenied(roles.OPS)
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
        raise UserError("tasks.settings_unknown", key=key[:20])
    await ctx.reply(ctx.t("tasks.settings_saved"))
    await settings(ctx, "")

