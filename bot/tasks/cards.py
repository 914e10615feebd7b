"""Task cards and list lines. Pure: callers pass the text function, names and the zone."""
from __future__ import annotations

from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from bot.access import Scope
from bot.cards import Button, Card, Input, escape_md
from bot.commands.registry import card_action
from bot.records import TASK
from bot.timeparse.parser import format_local
from bot.tasks.models import DONE, OPEN, TODO, Task, TaskLog

# The buttons task cards carry (handlers: bot/commands/task.py).
CREATE = card_action("task.create", label=("创建任务", "create the task"), scope=Scope.TEAM)
ACTIONS = {verb: card_action(f"task.{verb}", label=label, scope=Scope.RECORD, record=TASK)
           for verb, label in (("done", ("完成任务", "complete the task")), ("start", ("开始任务", "start the task")),
                               ("reopen", ("重开任务", "reopen the task")), ("comment", ("评论任务", "comment")),
                               ("extend", ("延期任务", "extend the task")),
                               ("reassign", ("转交任务", "reassign the task")))}

# An ad-hoc task's plan form (bot.norms.adhoc; handler: bot/commands/adhoc.py).
PLAN = card_action("task.plan", label=("提交方案", "submit the plan"), scope=Scope.RECORD, record=TASK)

T = Callable[..., str]
TEMPLATES = {"todo": "blue", "doing": "wathet", "done": "green", "cancelled": "grey"}


def who(names: dict[str, str], ids: list[str]) -> str:
    return "、".join(f"@{names.get(i, i[-6:])}" for i in ids) or "-"


def due_text(t: T, task: Task, tz: ZoneInfo, locale: str, now: datetime) -> str:
    shown = format_local(task.due_at, str(tz), locale)
    if task.status in OPEN and task.due_at < now:
        days = int((now - task.due_at).total_seconds() // 86400)
        return shown + " " + t("tasks.overdue_mark", days=max(days, 0))
    return shown


def source_text(t: T, task: Task) -> str:
    if task.source == "review":
        return t("tasks.source.review_ref", ref=f"#{task.stream_id}" if task.stream_id else f"R{task.review_id}")
    return t(f"tasks.source.{task.source}")


def line(t: T, task: Task, owners: list[str], names: dict[str, str], tz: ZoneInfo, locale: str,
         now: datetime) -> str:
    mark = "🔴 " if task.status in OPEN and task.due_at < now else ""
    return t("tasks.line", mark=mark, id=task.id, title=escape_md(task.title[:60]), owners=who(names, owners),
             due=due_text(t, task, tz, locale, now), status=t(f"tasks.status.{task.status}"))


def task_card(t: T, task: Task, owners: list[str], names: dict[str, str], tz: ZoneInfo, locale: str,
              now: datetime, *, banner: str = "", log: list[TaskLog] | None = None, plan=None) -> Card:
    overdue = task.status in OPEN and task.due_at < now
    template = "red" if overdue else TEMPLATES.get(task.status, "blue")
    card = Card(t("tasks.card_title", id=task.id, title=task.title[:80]), template=template,
                subtitle=t(f"tasks.status.{task.status}"))
    card.markdown(banner)
    pairs = [(t("tasks.f_owner"), who(names, owners)), (t("tasks.f_due"), due_text(t, task, tz, locale, now)),
             (t("tasks.f_priority"), t(f"tasks.priority.{task.priority}")), (t("tasks.f_source"), source_text(t, task))]
    card.fields(pairs)
    if task.status == DONE and task.completed_at is not None:
        late = task.completed_at > task.due_at
        card.markdown(t("tasks.done_at", at=format_local(task.completed_at, str(tz), locale),
                        by=who(names, [task.completed_by or ""]),
                        verdict=t("tasks.done_late" if late else "tasks.done_on_time")))
    if task.feishu_url:
        card.markdown(t("tasks.feishu_link", url=task.feishu_url))
    notes = [entry for entry in (log or []) if entry.kind in ("comment", "extended", "reassigned", "handover")]
    if notes:
        card.markdown("\n".join(log_line(t, e, names, tz, locale) for e in notes[-4:]))
    if plan is not None:
        _plan_part(t, card, task, plan, owners, names, tz, locale)
    if task.status in OPEN:
        buttons = [Button(t("tasks.btn_done"), ACTIONS["done"](id=task.id), kind="primary")]
        if task.status == TODO:
            buttons.append(Button(t("tasks.btn_start"), ACTIONS["start"](id=task.id)))
        card.buttons(*buttons)
        card.elements.append(_change_form(t, task))
    else:
        card.buttons(Button(t("tasks.btn_reopen"), ACTIONS["reopen"](id=task.id)))
    card.note(t("tasks.card_hint", id=task.id))
    return card


def _plan_part(t: T, card: Card, task: Task, plan, owners: list[str], names: dict[str, str], tz: ZoneInfo,
               locale: str) -> None:
    """An ad-hoc task's plan: shown once given, else asked for with a form (plan, expected finish)."""
    if plan.submitted_at is not None:
        verdict = t("more.in_time" if plan.submitted_at <= plan.due_at else "more.late")
        card.markdown(t("more.plan_shown", plan=escape_md(plan.plan),
                        finish=format_local(plan.finish_at, str(tz), locale) if plan.finish_at else "-",
                        at=format_local(plan.submitted_at, str(tz), locale), verdict=verdict))
        return
    if task.status not in OPEN:
        return
    card.markdown(t("more.plan_ask", who=who(names, owners), due=format_local(plan.due_at, str(tz), locale)))
    card.form(f"task_plan_{task.id}", [Input("plan", t("more.plan_label"), placeholder=t("more.plan_hint"), multiline=True),
                                       Input("finish", t("more.plan_finish"), placeholder=t("more.plan_finish_hint"))],
              Button(t("more.btn_plan"), PLAN(id=task.id), kind="primary", submit=True, name=f"task_plan_{task.id}"))


def _change_form(t: T, task: Task) -> dict:
    """One form, three submit buttons: comment, extend (deadline + reason), reassign."""
    def field(name: str, label: str, hint: str) -> dict:
        return {"tag": "input", "name": name, "label": {"tag": "plain_text", "content": label},
                "placeholder": {"tag": "plain_text", "content": hint}}

    def submit(label: str, verb: str) -> dict:
        b = Button(label, ACTIONS[verb](id=task.id), submit=True, name=f"task_{verb}_{task.id}")
        return {"tag": "column", "width": "auto", "elements": [b.to_dict()]}

    return {"tag": "form", "name": f"task_form_{task.id}", "elements": [
        field("note", t("tasks.form_note"), t("tasks.form_note_hint")),
        field("due", t("tasks.form_due"), t("tasks.form_due_hint")),
        field("owner", t("tasks.form_owner"), t("tasks.form_owner_hint")),
        {"tag": "column_set", "flex_mode": "flow", "columns": [
            submit(t("tasks.btn_comment"), "comment"), submit(t("tasks.btn_extend"), "extend"),
            submit(t("tasks.btn_reassign"), "reassign")]}]}


def log_line(t: T, entry: TaskLog, names: dict[str, str], tz: ZoneInfo, locale: str) -> str:
    at = format_local(entry.at, str(tz), locale)
    by = who(names, [entry.by])
    if entry.kind == "extended":
        to = datetime.fromisoformat(entry.data.get("to", entry.at.isoformat()))
        return t("tasks.log_extended", at=at, by=by, to=format_local(to, str(tz), locale),
                 reason=escape_md(entry.text or "-"))
    if entry.kind in ("reassigned", "handover"):
        return t("tasks.log_reassigned", at=at, by=by, to=who(names, entry.data.get("to") or []))
    return t("tasks.log_comment", at=at, by=by, text=escape_md(entry.text))


def list_card(t: T, title: str, tasks: list[Task], owners: dict[int, list[str]], names: dict[str, str],
              tz: ZoneInfo, locale: str, now: datetime, empty: str) -> Card:
    card = Card(title, template="blue", subtitle=t("tasks.list_count", n=len(tasks)))
    if not tasks:
        card.markdown(empty)
        return card
    shown = tasks[:40]
    card.markdown("\n".join(line(t, task, owners.get(task.id, []), names, tz, locale, now) for task in shown))
    if len(tasks) > len(shown):
        card.note(t("tasks.list_more", n=len(tasks) - len(shown)))
    card.note(t("tasks.list_hint"))
    return card


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def stats_card(t: T, month: str, people, total, names: dict[str, str]) -> Card:
    card = Card(t("tasks.stats_title", month=month), template="indigo")
    if not total.due:
        card.markdown(t("tasks.stats_empty"))
        return card
    card.markdown(t("tasks.stats_total", due=total.due, on_time=total.on_time, late=total.late,
                    overdue=total.overdue, pending=total.pending, rate=pct(total.rate),
                    review_rate=pct(total.review_rate), review_due=total.review_due))
    rows = [t("tasks.stats_header")]
    for s in people:
        rows.append(t("tasks.stats_row", who=who(names, [s.open_id]), due=s.due, on_time=s.on_time, late=s.late,
                      overdue=s.overdue, rate=pct(s.rate), review_rate=pct(s.review_rate)))
    card.markdown("\n".join(rows))
    card.note(t("tasks.stats_note"))
    return card


def ask_owner_card(t: T, title: str, due: datetime, tz: ZoneInfo, locale: str, members: list[tuple[str, str]],
                   payload: dict) -> Card:
    """No owner was named: ask whom, with a pick list of the group's members."""
    card = Card(t("tasks.ask_owner_title"), template="orange")
    card.markdown(t("tasks.ask_owner_body", title=escape_md(title), due=format_local(due, str(tz), locale)))
    select = {"tag": "select_static", "name": "owner",
              "placeholder": {"tag": "plain_text", "content": t("tasks.ask_owner_pick")},
              "options": [{"text": {"tag": "plain_text", "content": name}, "value": open_id}
                          for open_id, name in members[:100]]}
    button = Button(t("tasks.ask_owner_ok"), CREATE(**payload), kind="primary", submit=True,
                    name="task_create")
    card.elements.append({"tag": "form", "name": "task_ask_owner", "elements": [select, button.to_dict()]})
    card.note(t("tasks.ask_owner_hint"))
    return card
