"""Review cards: the editing card (form + improvement → task), the summary, the list."""
from __future__ import annotations

from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from bot import records
from bot.access import Scope
from bot.cards import Button, Card, escape_md
from bot.commands.registry import card_action
from bot.timeparse.parser import format_local
from bot.reviews.models import DONE, HIGHLIGHT, IMPROVEMENT, KINDS, SHORTCOMING, Review, ReviewItem
from bot.tasks.models import Task

T = Callable[..., str]
# The buttons review cards carry (handlers: bot/commands/review.py); all name the review's id.
ADD = card_action("review.add", label=("添加复盘内容", "add to the review"), scope=Scope.RECORD, record=records.REVIEW)
PICK_TASK = card_action("review.task", label=("改进转任务", "make a task"), scope=Scope.RECORD, record=records.REVIEW)
TO_TASK = card_action("review.totask", label=("改进转任务", "make a task"), scope=Scope.RECORD,
                      record=records.REVIEW)
FINISH = card_action("review.finish", label=("完成复盘", "finish the review"), scope=Scope.RECORD,
                     record=records.REVIEW)
ICONS = {HIGHLIGHT: "🌟", SHORTCOMING: "⚠️", IMPROVEMENT: "🛠"}


def ref(review: Review) -> str:
    return f"#{review.stream_id}" if review.stream_id is not None else f"R{review.id}"


def _item_line(t: T, item: ReviewItem, tasks: dict[int, Task], names: dict[str, str], tz: ZoneInfo,
               locale: str) -> str:
    text = f"- `[{item.id}]` {escape_md(item.text)}"
    if item.source != "manual":
        text += " " + t(f"reviews.from_{item.source}")
    if item.kind == IMPROVEMENT:
        task = tasks.get(item.task_id or 0)
        if task is not None:
            text += " " + t("reviews.item_task", id=task.id, status=t(f"tasks.status.{task.status}"),
                            due=format_local(task.due_at, str(tz), locale))
        elif item.owner_id or item.due_at:
            who = f"@{names.get(item.owner_id, '')}" if item.owner_id else "?"
            due = format_local(item.due_at, str(tz), locale) if item.due_at else "?"
            text += " " + t("reviews.item_planned", who=who, due=due)
    return text


def sections(t: T, items: list[ReviewItem], tasks: dict[int, Task], names: dict[str, str], tz: ZoneInfo,
             locale: str) -> str:
    parts = []
    for kind in KINDS:
        mine = [i for i in items if i.kind == kind]
        lines = [_item_line(t, i, tasks, names, tz, locale) for i in mine] or [t("reviews.none_yet")]
        parts.append(f"**{ICONS[kind]} {t('reviews.kind.' + kind)}**\n" + "\n".join(lines))
    return "\n\n".join(parts)


def _header(t: T, card: Card, review: Review, figures: list[tuple[str, str]]) -> None:
    """The key figures (bot.reviews.service.stream_figures: labels and values already shown,
    amounts already hidden where they may not be seen)."""
    if figures:
        card.fields(figures)


def review_card(t: T, review: Review, items: list[ReviewItem], tasks: dict[int, Task], names: dict[str, str],
                members: list[tuple[str, str]], figures: list[tuple[str, str]], tz: ZoneInfo, locale: str) -> Card:
    if review.status == DONE:
        return summary_card(t, review, items, tasks, names, figures, tz, locale)
    card = Card(t("reviews.card_title", ref=ref(review), title=review.title), template="purple",
                subtitle=t("reviews.card_subtitle"))
    _header(t, card, review, figures)
    card.markdown(sections(t, items, tasks, names, tz, locale))
    card.hr()
    submit = Button(t("reviews.btn_add"), ADD(id=review.id), kind="primary", submit=True,
                    name=f"review_add_{review.id}")
    card.elements.append({"tag": "form", "name": f"review_form_{review.id}", "elements": [
        _input("highlight", t("reviews.kind.highlight"), t("reviews.hint_highlight")),
        _input("shortcoming", t("reviews.kind.shortcoming"), t("reviews.hint_shortcoming")),
        _input("improvement", t("reviews.kind.improvement"), t("reviews.hint_improvement")),
        submit.to_dict()]})
    open_items = [i for i in items if i.kind == IMPROVEMENT and i.task_id is None]
    ready = [i for i in open_items if i.owner_id and i.due_at]
    if ready:
        card.buttons(*[Button(t("reviews.btn_to_task_one", id=i.id), TO_TASK(id=review.id, item=i.id))
                       for i in ready[:6]])
    if open_items and members:
        pick = Button(t("reviews.btn_to_task"), PICK_TASK(id=review.id), submit=True,
                      name=f"review_task_{review.id}")
        card.elements.append({"tag": "form", "name": f"review_task_form_{review.id}", "elements": [
            _select("item", t("reviews.pick_item"), [(f"[{i.id}] {i.text[:30]}", str(i.id)) for i in open_items]),
            _select("owner", t("reviews.pick_owner"), members),
            _input("due", t("reviews.due"), t("reviews.hint_due")),
            pick.to_dict()]})
    card.buttons(Button(t("reviews.btn_finish"), FINISH(id=review.id), kind="primary_filled"))
    card.note(t("reviews.card_hint", ref=ref(review)))
    return card


def _input(name: str, label: str, hint: str) -> dict:
    return {"tag": "input", "name": name, "label": {"tag": "plain_text", "content": label},
            "placeholder": {"tag": "plain_text", "content": hint}}


def _select(name: str, hint: str, options: list[tuple[str, str]]) -> dict:
    return {"tag": "select_static", "name": name, "placeholder": {"tag": "plain_text", "content": hint},
            "options": [{"text": {"tag": "plain_text", "content": label}, "value": value}
                        for label, value in options[:100]]}


def summary_card(t: T, review: Review, items: list[ReviewItem], tasks: dict[int, Task], names: dict[str, str],
                 figures: list[tuple[str, str]], tz: ZoneInfo, locale: str) -> Card:
    card = Card(t("reviews.summary_title", ref=ref(review), title=review.title), template="green")
    _header(t, card, review, figures)
    card.markdown(sections(t, items, tasks, names, tz, locale))
    linked = [tasks[i.task_id] for i in items if i.task_id in tasks]
    if linked:
        done = sum(1 for task in linked if task.status == "done")
        card.markdown(t("reviews.summary_tasks", n=len(linked), done=done))
    if review.finished_at is not None:
        card.note(t("reviews.summary_by", who=names.get(review.finished_by or "", ""),
                    at=format_local(review.finished_at, str(tz), locale)))
    return card


def list_card(t: T, reviews: list[Review], counts: dict[int, dict[str, int]], tz: ZoneInfo, locale: str) -> Card:
    card = Card(t("reviews.list_title"), template="purple")
    if not reviews:
        card.markdown(t("reviews.list_empty"))
        return card
    lines = []
    for r in reviews:
        c = counts.get(r.id, {})
        lines.append(t("reviews.list_line", ref=ref(r), title=escape_md(r.title), status=t(f"reviews.status.{r.status}"),
                       h=c.get(HIGHLIGHT, 0), s=c.get(SHORTCOMING, 0), i=c.get(IMPROVEMENT, 0),
                       at=format_local(r.created_at, str(tz), locale)))
    card.markdown("\n".join(lines))
    card.note(t("reviews.list_hint"))
    return card


def overdue_text(t: T, label: str, ended: datetime, tz: ZoneInfo, locale: str) -> str:
    return t("reviews.missing", stream=label, ended=format_local(ended, str(tz), locale))
