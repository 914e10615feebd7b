"""People norms: the hand-over when someone leaves (seed 二(四): "离职 3 个工作日内完成交接")
and a newbie streamer's growth plan (seed 一(二): "新人主播 7–15 天成长计划").

Hand-over (``start_departure``): due ``handover.days`` working days (default 3; the Chinese
calendar with make-up days, bot.timeparse.workdays) after the last day, 18:00. Its checklist
is the team's ``handover.checklist`` (files and accounts) plus the leaver's open tasks (done
once none is left: /任务 交接 moves them). Timers (kind ``norms.departure``, ref
``departure:{id}``): on the last day at 10:00 the leaver and the ops lead get the card; at the
deadline, still open, the ops lead hears (bot.leads.escalation_targets).

Growth plan (``start_newbie``): the team's ``newbie.template`` ([day, what] items) becomes
dated tasks (source ``newbie``) within ``newbie.days`` (7–15, default 15), each due 18:00 on
its day; their reminders are the tasks' own. /数据 运营 shows each plan's progress next to
the newbie conversion-growth KPI.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox, records
from bot.access import Scope
from bot.cards import Button, Card, escape_md
from bot.commands.registry import card_action
from bot.context import Ctx
from bot.errors import UserError
from bot.leads import escalation_targets
from bot.norms import config
from bot.norms.more_models import CANCELLED, DONE, OPEN, Departure, NewbiePlan
from bot import timers
from bot.timeparse import workdays
from bot.schedule.cards import at
from bot.tasks import service as tasks
from bot.tasks.models import DONE as T_DONE, Task

KIND = "norms.departure"
CHECK = card_action("departure.check", label=("勾选交接项", "tick a hand-over item"), scope=Scope.RECORD,
                    record=records.DEPARTURE)


def _at_local(day: date, hh: int, tz) -> datetime:
    return datetime.combine(day, time(hh, 0), tzinfo=tz)


def handover_due(leave_on: date, days: int, tz) -> datetime:
    try:
        day = workdays.add_working_days(leave_on, days)
    except Exception:  # noqa: BLE001 - a year the calendar does not cover: weekdays only
        day, left = leave_on, days
        while left:
            day += timedelta(days=1)
            left -= day.weekday() < 5
    return _at_local(day, 18, tz)


# -- the hand-over ------------------------------------------------------------------------------
async def active_departure(session: AsyncSession, open_id: str) -> Departure | None:
    return (await session.execute(select(Departure).where(Departure.open_id == open_id, Departure.status == OPEN)
                                  .order_by(Departure.id.desc()))).scalars().first()


async def open_departures(session: AsyncSession) -> list[Departure]:
    return list((await session.execute(select(Departure).where(Departure.status == OPEN)
                                       .order_by(Departure.id))).scalars())


async def start_departure(ctx: Ctx, open_id: str, name: str, leave_on: date) -> tuple[Departure, bool]:
    found = await active_departure(ctx.session, open_id)
    if found is not None:
        return found, False
    cfg = await config.effective(ctx.session)
    tz = ctx.svc.tz
    dep = Departure(open_id=open_id, name=name[:100], chat_id=ctx.chat_id, leave_on=leave_on.isoformat(),
                    due_at=handover_due(leave_on, int(cfg["handover.days"]), tz).astimezone(ctx.now().tzinfo),
                    checklist=[{"item": str(x), "done": False} for x in cfg["handover.checklist"]],
                    created_by=ctx.user_id, created_at=ctx.now())
    ctx.session.add(dep)
    await ctx.session.flush()
    ref = f"departure:{dep.id}"
    remind = _at_local(leave_on, 10, tz)
    for stage, due in (("remind", remind), ("due", dep.due_at)):
        if due > ctx.now():
            await timers.schedule(ctx.session, key=f"{ref}:{stage}", kind=KIND, due=due, payload={"id": dep.id, "stage": stage},
                                  chat_id=dep.chat_id, ref=ref, created_by=ctx.user_id)
    return dep, True


async def open_tasks(session: AsyncSession, open_id: str) -> list[Task]:
    return await tasks.mine(session, open_id)


def ticked(dep: Departure) -> int:
    return sum(1 for x in dep.checklist if x.get("done"))


async def departure_card(ctx: Ctx, dep: Departure, *, banner: str = "") -> Card:
    left = await open_tasks(ctx.session, dep.open_id)
    total = len(dep.checklist) + 1
    done = ticked(dep) + (0 if left else 1)
    tz = ctx.svc.tz
    template = "green" if dep.status == DONE else ("red" if dep.escalated_at else "blue")
    card = Card(ctx.t("more.dep_title", name=escape_md(dep.name), id=dep.id), template=template,
                subtitle=ctx.t("more.dep_progress", done=done, total=total))
    if banner:
        card.markdown(banner)
    card.markdown(ctx.t("more.dep_body", who=at(dep.open_id), leave=dep.leave_on,
                        due=dep.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")))
    lines = [("✅ " if x.get("done") else "⬜ ") + escape_md(str(x.get("item", ""))) for x in dep.checklist]
    if left:
        lines.append("⬜ " + ctx.t("more.dep_tasks_left", ids="、".join(f"#{t.id}" for t in left[:10]), n=len(left)))
    else:
        lines.append("✅ " + ctx.t("more.dep_tasks_none"))
    card.markdown("\n".join(lines))
    if dep.status == OPEN:
        buttons = [Button("✓ " + str(x.get("item", ""))[:12], CHECK(id=dep.id, i=i))
                   for i, x in enumerate(dep.checklist) if not x.get("done")]
        for n in range(0, len(buttons), 4):
            card.buttons(*buttons[n:n + 4])
        card.note(ctx.t("more.dep_hint", name=escape_md(dep.name)))
    return card


async def tick(ctx: Ctx, dep: Departure, index: int) -> bool:
    if dep.status != OPEN or not 0 <= index < len(dep.checklist):
        return False
    items = [dict(x) for x in dep.checklist]
    if items[index].get("done"):
        return False
    items[index].update(done=True, by=ctx.user_id, at=ctx.now().isoformat())
    dep.checklist = items  # a new list: the JSON column sees the change
    await settle(ctx, dep)
    return True


async def settle(ctx: Ctx, dep: Departure) -> None:
    """Every item ticked and no open task left: the hand-over is done, its timers stop."""
    if dep.status == OPEN and ticked(dep) == len(dep.checklist) and not await open_tasks(ctx.session, dep.open_id):
        dep.status, dep.done_at = DONE, ctx.now()
        await timers.cancel_ref(ctx.session, f"departure:{dep.id}")


async def cancel_departure(ctx: Ctx, dep: Departure) -> None:
    dep.status = CANCELLED
    await timers.cancel_ref(ctx.session, f"departure:{dep.id}")


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    dep = await ctx.session.get(Departure, int(timer.payload.get("id", 0)))
    if dep is None or dep.status != OPEN:
        return
    await settle(ctx, dep)
    if dep.status != OPEN:
        return
    stage = timer.payload.get("stage", "remind")
    late_people = [dep.open_id]
    leads = await escalation_targets(ctx.session, chat_id=dep.chat_id, late=late_people, admins=ctx.svc.settings.admins)
    if stage == "remind":
        card = await departure_card(ctx, dep, banner=ctx.t("more.dep_remind_banner", due=dep.due_at.astimezone(
            ctx.svc.tz).strftime("%m-%d %H:%M")))
        for person in [dep.open_id, *leads]:
            await ctx.dm(person, card=card)
        return
    dep.escalated_at = ctx.now()
    card = await departure_card(ctx, dep, banner=ctx.t("more.dep_escalate_banner"))
    for lead in leads:
        await ctx.dm(lead, card=card)
    await ctx.send(dep.chat_id, ctx.t("more.dep_escalate_text", name=dep.name, id=dep.id,
                                      who=" ".join(outbox.mention(x) for x in [*leads, dep.open_id])))


# -- the newbie growth plan ---------------------------------------------------------------------
async def active_plan(session: AsyncSession, open_id: str, today: date) -> NewbiePlan | None:
    rows = (await session.execute(select(NewbiePlan).where(NewbiePlan.open_id == open_id)
                                  .order_by(NewbiePlan.id.desc()))).scalars()
    return next((p for p in rows if p.ends_on >= today.isoformat()), None)


async def start_newbie(ctx: Ctx, open_id: str, name: str, starts_on: date | None = None) -> tuple[NewbiePlan, bool]:
    tz = ctx.svc.tz
    local = ctx.now().astimezone(tz)
    found = await active_plan(ctx.session, open_id, local.date())
    if found is not None:
        return found, False
    if starts_on is None:
        starts_on = local.date() if local.hour < 17 else local.date() + timedelta(days=1)
    cfg = await config.effective(ctx.session)
    days = int(cfg["newbie.days"])
    items = [(min(int(d), days), str(what)) for d, what in cfg["newbie.template"]]
    plan = NewbiePlan(open_id=open_id, chat_id=ctx.chat_id, starts_on=starts_on.isoformat(),
                      ends_on=(starts_on + timedelta(days=days - 1)).isoformat(), created_by=ctx.user_id,
                      created_at=ctx.now())
    ctx.session.add(plan)
    await ctx.session.flush()
    ids = []
    for i, (day, what) in enumerate(items):
        due = _at_local(starts_on + timedelta(days=day - 1), 18, tz).astimezone(ctx.now().tzinfo)
        if due <= ctx.now():
            due = ctx.now() + timedelta(hours=2)
        task, _ = await tasks.create_task(ctx.session, chat_id=ctx.chat_id, title=ctx.t("more.newbie_task", what=what),
                                          owners=[open_id], due=due, by=ctx.user_id, now=ctx.now(), source="newbie",
                                          source_ref=f"newbie:{plan.id}", idem_key=f"newbie:{plan.id}:{i}")
        ids.append(task.id)
    plan.task_ids = ids
    return plan, True


async def plan_tasks(session: AsyncSession, plan: NewbiePlan) -> list[Task]:
    rows = (await session.execute(select(Task).where(Task.id.in_(plan.task_ids or [-1])).order_by(Task.due_at))).scalars()
    return list(rows)


async def progress(session: AsyncSession, plan: NewbiePlan) -> tuple[int, int]:
    rows = await plan_tasks(session, plan)
    return sum(1 for t in rows if t.status == T_DONE), len(rows)


async def newbie_card(ctx: Ctx, plan: NewbiePlan, name: str) -> Card:
    rows = await plan_tasks(ctx.session, plan)
    done = sum(1 for t in rows if t.status == T_DONE)
    card = Card(ctx.t("more.newbie_title", name=escape_md(name)), template="turquoise",
                subtitle=ctx.t("more.dep_progress", done=done, total=len(rows)))
    card.markdown(ctx.t("more.newbie_body", who=at(plan.open_id), start=plan.starts_on, end=plan.ends_on))
    tz = ctx.svc.tz
    card.markdown("\n".join(("✅ " if t.status == T_DONE else "⬜ ") + f"{t.due_at.astimezone(tz):%m-%d} · "
                            f"{escape_md(t.title)} · #{t.id}" for t in rows))
    card.note(ctx.t("more.newbie_kpi"))
    return card


async def people_section(ctx: Ctx, card: Card) -> None:
    """/人员: who is leaving (checklist state) and the newbies' growth plans."""
    deps = await open_departures(ctx.session)
    lines = []
    for dep in deps:
        left = await open_tasks(ctx.session, dep.open_id)
        lines.append(ctx.t("more.dep_line", name=escape_md(dep.name), leave=dep.leave_on, id=dep.id,
                           due=dep.due_at.astimezone(ctx.svc.tz).strftime("%m-%d"), done=ticked(dep) + (0 if left else 1),
                           total=len(dep.checklist) + 1))
    if lines:
        card.markdown(ctx.t("more.dep_section") + "\n" + "\n".join(lines))
    today = ctx.local_now().date().isoformat()
    plans = (await ctx.session.execute(select(NewbiePlan).where(NewbiePlan.ends_on >= today)
                                       .order_by(NewbiePlan.id))).scalars().all()
    if plans:
        from bot.schedule import service as schedule

        names = await schedule.names_of(ctx.session, [p.open_id for p in plans])
        rows = []
        for p in plans:
            done, total = await progress(ctx.session, p)
            rows.append(ctx.t("more.newbie_line", name=escape_md(names.get(p.open_id, p.open_id[-6:])), done=done,
                              total=total, end=p.ends_on))
        card.markdown(ctx.t("more.newbie_section") + "\n" + "\n".join(rows))


def refuse_past(day: date, today: date) -> None:
    if day < today - timedelta(days=30):
        raise UserError("more.dep_bad_day", day=day.isoformat())
