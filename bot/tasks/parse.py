"""Reading a task out of a line: owners (@mentions or @names), priority, deadline, title."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.context import Ctx
from bot.errors import UserError
from bot.timeparse.parser import PastTimeError, TimeParseError, format_local, parse_deadline
from bot.store.models import Person
from bot.tasks.models import HIGH, LOW, NORMAL

AT_NAME = re.compile(r"[@＠]([^\s@＠,，。;；:：]+)")
PRIORITY = re.compile(r"(?:优先级\s*[:：]?\s*(高|中|低|紧急|普通)|\b[Pp]([0-3])\b|【?(紧急|加急)】?|"
                      r"priority\s*[:=]?\s*(high|normal|low)|\b(urgent)\b)", re.I)
TASK_REF = re.compile(r"^(?:任务)?[#＃Tt]?(\d{1,9})$")


@dataclass
class TaskLine:
    title: str
    owners: list[str]
    due: datetime | None
    priority: str


def task_ref(word: str) -> int | None:
    m = TASK_REF.match(word.strip())
    return int(m.group(1)) if m else None


def priority_of(text: str) -> tuple[str, str]:
    m = PRIORITY.search(text)
    if not m:
        return NORMAL, text
    word = next(g for g in m.groups() if g).lower()
    level = {"高": HIGH, "紧急": HIGH, "加急": HIGH, "0": HIGH, "1": HIGH, "high": HIGH, "urgent": HIGH,
             "低": LOW, "3": LOW, "low": LOW}.get(word, NORMAL)
    return level, (text[:m.start()] + " " + text[m.end():]).strip()


async def members(ctx: Ctx, chat_id: str) -> dict[str, str]:
    """open_id → name of a group's members (empty for a direct chat or when unreadable)."""
    if not chat_id or (ctx.message is not None and ctx.message.is_direct):
        return {}
    try:
        items = await ctx.svc.platform.chat_members(chat_id)
    except Exception:  # noqa: BLE001 - the membership check is skipped, not the task
        return {}
    found = {str(i.get("member_id")): str(i.get("name") or "") for i in items if i.get("member_id")}
    unnamed = [oid for oid, name in found.items() if not name]
    if unnamed:
        from bot.people import names

        found.update(await names(ctx, unnamed))
    return found


async def owners_in(ctx: Ctx, text: str, *, chat_id: str | None = None,
                    require_member: bool = True) -> tuple[list[str], str]:
    """The people named in ``text`` (real mentions first, then "@name" typed as text, matched
    against the group's members and known people). Refuses unknown names and people who are
    not in the group. Returns (open_ids, text without them)."""
    chat_id = ctx.chat_id if chat_id is None else chat_id
    owners: list[str] = []
    mentioned = list(ctx.message.mentions) if ctx.message is not None else []
    for m in sorted(mentioned, key=lambda m: -len(m.name)):
        if m.name and f"@{m.name}" in text:
            owners.append(m.open_id)
            text = text.replace(f"@{m.name}", " ", 1)
    group = await members(ctx, chat_id)
    for at_name in list(AT_NAME.finditer(text)):
        name = at_name.group(1)
        found = [oid for oid, n in group.items() if n == name]
        if not found:
            rows = (await ctx.session.execute(select(Person.open_id).where(Person.name == name))).scalars()
            found = list(rows)
        if not found:
            raise UserError("tasks.owner_unknown", name=name[:20])
        owners.append(found[0])
        text = text.replace(at_name.group(0), " ", 1)
    if group and require_member:
        for open_id in owners:
            if open_id not in group:
                person = await ctx.session.get(Person, open_id)
                raise UserError("tasks.owner_not_in_group", name=(person.name if person else "") or open_id[-6:])
    return list(dict.fromkeys(owners)), " ".join(text.split())


def deadline_in(ctx: Ctx, text: str) -> tuple[datetime, str]:
    """(deadline, the rest of the text) or a UserError explaining what was wrong."""
    try:
        parsed = parse_deadline(text, ctx.now(), str(ctx.svc.tz), ctx.locale)
    except PastTimeError as exc:
        raise UserError("tasks.deadline_past_at", when=format_local(exc.when, str(ctx.svc.tz), ctx.locale)) from None
    except TimeParseError as exc:
        raise UserError("tasks.bad_deadline", detail=exc.message_for(ctx.locale)) from None
    if parsed.when <= ctx.now():
        raise UserError("tasks.deadline_past")
    return parsed.when, parsed.rest.strip(" ，,。;；:：")


def has_deadline(ctx: Ctx, text: str) -> bool:
    try:
        parse_deadline(text, ctx.now(), str(ctx.svc.tz), ctx.locale)
    except PastTimeError:
        return True
    except TimeParseError:
        return False
    return True


async def read_line(ctx: Ctx, text: str, *, need_deadline: bool = True) -> TaskLine:
    owners, text = await owners_in(ctx, text)
    priority, text = priority_of(text)
    due = None
    if need_deadline or has_deadline(ctx, text):
        due, text = deadline_in(ctx, text)
    return TaskLine(title=text, owners=owners, due=due, priority=priority)


async def message_text(ctx: Ctx, message_id: str) -> str | None:
    """The readable text of a message (for "@LiveOps 记为任务" as a reply); None if unreadable."""
    try:
        result = await ctx.svc.platform.call("GET", "/open-apis/im/v1/messages/:message_id",
                                             paths={"message_id": message_id})
    except Exception:  # noqa: BLE001
        return None
    from bot.feishu import groupmode

    groupmode.check_group_read(result)  # @-only mode: say which scope reading it needs
    if not result.ok:
        return None
    items = (result.data or {}).get("items") or []
    if not items:
        return None
    item = items[0]
    try:
        content = json.loads((item.get("body") or {}).get("content") or "{}")
    except ValueError:
        return None
    names = {m.get("key"): m.get("name") for m in item.get("mentions") or [] if isinstance(m, dict)}
    if isinstance(content.get("text"), str):
        text = content["text"]
    else:  # a post: its title and text runs
        runs = [content.get("title") or ""]
        for para in content.get("content") or []:
            for node in para if isinstance(para, list) else []:
                if isinstance(node, dict) and node.get("tag") in ("text", "a"):
                    runs.append(node.get("text") or "")
        text = " ".join(r for r in runs if r)
    for key, name in names.items():
        if key:
            text = text.replace(key, f"@{name}")
    text = " ".join(text.split())
    return text or None
