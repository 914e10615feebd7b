"""Compliance checks as the bot runs them: with the team's own terms and exemptions, kept
as records for the legal retention period, exported for audits, purged when expired.

Plain keyword-argument functions over an AsyncSession; nothing here sends messages. The
command module (bot/commands/check.py) turns their results into cards.

Re-checks: a record links to the one it corrects (``previous_id``), either explicitly
(``/检查 复查 R12 ...``) or automatically when it is a *revision* of it (``revision_of``):

* it was sent as a reply to the earlier record's answer card (any age), or
* within ``RELINK_WINDOW`` in the same chat, an earlier record that was not a pass and has no
  re-check yet has the same file name (after dropping version marks: "面霜脚本-修改.docx" is
  "面霜脚本.docx") or a similar text (``similarity`` ≥ ``SIMILAR``: character pairs shared).

A next check about something else is not linked. A revision keeps the earlier record's
stream unless it names one itself, so a fixed script reaches the stream's T-2d gate.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import csvsafe
from bot.periods import Period
from bot.compliance.matcher import (
    BLOCK, CATEGORIES, EXEMPTION_KINDS, TEAM_CATEGORY, WARN, Checker, CheckResult, Exemption, Hit,
    Term, Verdict,
)
from bot.compliance.normalize import normalize_term
from bot.compliance.models import (
    DEFAULT_TEAM, ComplianceAudit, ComplianceExemption, ComplianceRecord, ComplianceTerm,
)
from bot.store.models import Chat, Person

DEFAULT_RETENTION_YEARS = 3
RELINK_WINDOW = timedelta(days=1)
SIMILAR = 0.4          # Dice coefficient of character pairs: a revision keeps most of them
GENERIC_NAMES = {"脚本", "话术", "文案", "直播脚本", "直播话术", "script", "scripts", "新建文本文档", "新建文档",
                 "文档", "document", "doc", "untitled", "未命名", "无标题"}
RELINK_CANDIDATES = 10
TEAM_BASIS = "团队规则"
TERM_CATEGORIES = (*CATEGORIES, TEAM_CATEGORY)
_HIT_FIELDS = {f.name for f in fields(Hit)}
_CACHE: dict[tuple, Checker] = {}
_CACHE_MAX = 32


class RuleError(ValueError):
    """A team term or exemption the checker cannot use; ``key`` is a text key."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


def retention_until(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year + years)
    except ValueError:  # 29 February
        return now.replace(year=now.year + years, day=28)


def record_ref(record_id: int | None) -> str:
    return f"R{record_id}"


def parse_ref(word: str) -> int | None:
    """"R12", "r12", "#12", "12" -> 12."""
    w = word.strip().lstrip("#＃").upper()
    w = w[1:] if w.startswith(("R", "Ｒ")) else w
    return int(w) if w.isdigit() and len(w) < 10 else None


# --------------------------------------------------------------------------- the checker

async def team_rules(session: AsyncSession, team: str) -> tuple[list[ComplianceTerm], list[ComplianceExemption]]:
    terms = list((await session.execute(select(ComplianceTerm).where(ComplianceTerm.team == team)
                                        .order_by(ComplianceTerm.id))).scalars())
    exemptions = list((await session.execute(select(ComplianceExemption).where(ComplianceExemption.team == team)
                                             .order_by(ComplianceExemption.id))).scalars())
    return terms, exemptions


def _term(row: ComplianceTerm) -> Term:
    return Term(term=row.term, category=row.category, severity=row.severity, basis=TEAM_BASIS,
                reason=row.reason or "团队自定义敏感词")


def build_checker(terms: Iterable[ComplianceTerm], exemptions: Iterable[ComplianceExemption]) -> Checker:
    """The project's list plus the team's rules (cached: building takes ~20 ms)."""
    extra = tuple(_term(t) for t in terms)
    exempt = tuple(Exemption(e.phrase, e.kind) for e in exemptions)
    key = (extra, exempt)
    checker = _CACHE.get(key)
    if checker is None:
        checker = Checker.load_default().with_team(extra, exempt) if key != ((), ()) else Checker.load_default()
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = checker
    return checker


async def team_checker(session: AsyncSession, team: str = DEFAULT_TEAM) -> Checker:
    return build_checker(*await team_rules(session, team))


# --------------------------------------------------------------------------- records

def hit_dict(hit: Hit) -> dict[str, Any]:
    return asdict(hit)


def hit_from(d: dict[str, Any]) -> Hit:
    values = {k: v for k, v in d.items() if k in _HIT_FIELDS}
    values["suggestions"] = tuple(values.get("suggestions") or ())
    return Hit(**values)


def result_of(record: ComplianceRecord) -> CheckResult:
    """The stored check, rebuilt exactly as it was reported (not re-run)."""
    hits = [hit_from(h) for h in record.hits or []]
    by_cat: dict[str, int] = {}
    for h in hits:
        by_cat[h.category] = by_cat.get(h.category, 0) + 1
    return CheckResult(text=record.text, hits=hits, verdict=Verdict(record.verdict),
                       counts={"block": record.block_count, "warn": record.warn_count,
                               "total": record.total_count},
                       by_category=by_cat, exempted=[hit_from(h) for h in record.exempted or []])


async def run_check(session: AsyncSession, *, text: str, chat_id: str, user_id: str, now: datetime,
                    source: str, team: str = DEFAULT_TEAM, file_name: str | None = None,
                    source_message_id: str | None = None, line_labels: list[str] | None = None,
                    previous_id: int | None = None, stream_id: int | None = None,
                    reply_to: str | None = None,
                    years: int = DEFAULT_RETENTION_YEARS) -> tuple[ComplianceRecord, CheckResult]:
    """Check ``text`` with the team's rules and store the record (flushed: it has an id).
    ``reply_to``: the message the check was sent in reply to (an earlier answer card links
    the two)."""
    result = (await team_checker(session, team)).check(text)
    if previous_id is None:
        previous = await revision_of(session, team=team, chat_id=chat_id, now=now, text=text,
                                     file_name=file_name, reply_to=reply_to, stream_id=stream_id)
        if previous is not None:
            previous_id = previous.id
            stream_id = stream_id if stream_id is not None else previous.stream_id
    record = ComplianceRecord(
        team=team, chat_id=chat_id, user_id=user_id, created_at=now, source=source,
        file_name=(file_name or None) and file_name[:255], source_message_id=source_message_id,
        text=text, verdict=result.verdict.value, block_count=result.counts["block"],
        warn_count=result.counts["warn"], total_count=result.counts["total"],
        hits=[hit_dict(h) for h in result.hits], exempted=[hit_dict(h) for h in result.exempted],
        line_labels=line_labels, previous_id=previous_id, stream_id=stream_id,
        retention_until=retention_until(now, years))
    session.add(record)
    await session.flush()
    return record, result


async def revision_of(session: AsyncSession, *, team: str, chat_id: str, now: datetime, text: str,
                      file_name: str | None = None, reply_to: str | None = None,
                      stream_id: int | None = None) -> ComplianceRecord | None:
    """The earlier record a new check revises (see the module doc), or None. A record of
    another stream is never one; a generic name ("脚本.docx") is no evidence."""
    if reply_to:
        carded = await record_by_card(session, team=team, chat_id=chat_id, message_id=reply_to)
        if carded is not None:
            return carded
    recent = (await session.execute(
        select(ComplianceRecord).where(ComplianceRecord.team == team, ComplianceRecord.chat_id == chat_id,
                                       ComplianceRecord.created_at >= now - RELINK_WINDOW,
                                       ComplianceRecord.verdict != Verdict.PASS.value)
        .order_by(ComplianceRecord.id.desc()).limit(RELINK_CANDIDATES))).scalars()
    stem = file_stem(file_name) if file_name else ""
    if stem in GENERIC_NAMES or len(stem) < 2:
        stem = ""
    pairs = None
    for earlier in recent:
        if stream_id is not None and earlier.stream_id is not None and earlier.stream_id != stream_id:
            continue
        if stem and earlier.file_name and file_stem(earlier.file_name) == stem:
            pass
        else:
            pairs = pairs if pairs is not None else char_pairs(text)
            if dice(pairs, char_pairs(earlier.text)) < SIMILAR:
                continue
        if await followup_of(session, earlier.id) is None:
            return earlier
    return None


async def record_by_card(session: AsyncSession, *, team: str, chat_id: str, message_id: str) -> ComplianceRecord | None:
    """The record whose answer card is the message ``message_id`` (its outbox row's result)."""
    from bot.store.models import OutboxMessage

    keyed: dict[str, int] = dict((await session.execute(
        select(ComplianceRecord.card_key, ComplianceRecord.id).where(
            ComplianceRecord.team == team, ComplianceRecord.chat_id == chat_id,
            ComplianceRecord.card_key.is_not(None))
        .order_by(ComplianceRecord.id.desc()).limit(200))).all())
    if not keyed:
        return None
    rows = (await session.execute(select(OutboxMessage.key, OutboxMessage.result).where(
        OutboxMessage.key.in_(list(keyed))))).all()
    for key, result in rows:
        if isinstance(result, dict) and result.get("message_id") == message_id:
            return await session.get(ComplianceRecord, keyed[key])
    return None


_VERSION_MARKS = re.compile(
    r"(?i)[#＃]\s*\d+|v\d+(\.\d+)*|第?\d+版|版本\d*|最终版?|终版|定稿|修改稿?|修订版?|改版|新版|最新|"
    r"final|new|draft|copy|副本|\(\d+\)|（\d+）|\d{4}[-.]?\d{2}[-.]?\d{2}|\d{1,2}[-.]\d{1,2}|[-_ ]\d{1,3}$")


def file_stem(name: str) -> str:
    """A file name without extension, stream tag, version or date marks and separators:
    "#12 面霜脚本-修改v2.docx" and "面霜脚本.docx" → "面霜脚本"."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    for _ in range(3):
        stem = _VERSION_MARKS.sub("", stem.strip())
    return re.sub(r"[\W_]+", "", stem).lower()


SIMILARITY_CHARS = 5000  # texts are compared on their first part (a 20,000-character script: ~5 ms less)


def char_pairs(text: str) -> set[str]:
    s = re.sub(r"[\W_]+", "", text[:SIMILARITY_CHARS].lower())
    return {s[i:i + 2] for i in range(len(s) - 1)}


def dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


async def followup_of(session: AsyncSession, record_id: int | None) -> int | None:
    return (await session.execute(select(ComplianceRecord.id).where(ComplianceRecord.previous_id == record_id)
                                  .order_by(ComplianceRecord.id).limit(1))).scalar()


async def get_record(session: AsyncSession, record_id: int, team: str = DEFAULT_TEAM) -> ComplianceRecord | None:
    record = await session.get(ComplianceRecord, record_id)
    return record if record is not None and record.team == team else None


async def recent_records(session: AsyncSession, *, chat_id: str, team: str = DEFAULT_TEAM,
                         limit: int = 10) -> list[ComplianceRecord]:
    return list((await session.execute(
        select(ComplianceRecord).where(ComplianceRecord.team == team, ComplianceRecord.chat_id == chat_id)
        .order_by(ComplianceRecord.id.desc()).limit(limit))).scalars())


async def stream_records(session: AsyncSession, *, stream_id: int, team: str = DEFAULT_TEAM,
                         chat_id: str | None = None, limit: int = 20) -> list[ComplianceRecord]:
    """The records linked to one stream, newest first (``chat_id``: only those of that chat)."""
    query = select(ComplianceRecord).where(ComplianceRecord.team == team, ComplianceRecord.stream_id == stream_id)
    if chat_id is not None:
        query = query.where(ComplianceRecord.chat_id == chat_id)
    return list((await session.execute(query.order_by(ComplianceRecord.id.desc()).limit(limit))).scalars())


async def audit(session: AsyncSession, *, action: str, now: datetime, user_id: str = "", chat_id: str = "",
                team: str = DEFAULT_TEAM, record_id: int | None = None, detail: dict | None = None,
                years: int = DEFAULT_RETENTION_YEARS) -> ComplianceAudit:
    row = ComplianceAudit(team=team, at=now, user_id=user_id, chat_id=chat_id, action=action,
                          record_id=record_id, detail=detail or {},
                          retention_until=retention_until(now, years))
    session.add(row)
    await session.flush()
    return row


async def override(session: AsyncSession, record: ComplianceRecord, *, by: str, reason: str, now: datetime,
                   chat_id: str, years: int = DEFAULT_RETENTION_YEARS) -> None:
    """An ops lead lets a flagged script through; the record keeps the original verdict."""
    record.status = "overridden"
    record.overridden_by, record.overridden_at = by, now
    record.override_reason = reason[:500]
    await audit(session, action="override", now=now, user_id=by, chat_id=chat_id, team=record.team,
                record_id=record.id, detail={"reason": reason[:500], "verdict": record.verdict}, years=years)


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete records and audit rows past their retention; returns the number of records.
    Meant to run daily from the timer engine."""
    result = await session.execute(delete(ComplianceRecord).where(ComplianceRecord.retention_until <= now))
    await session.execute(delete(ComplianceAudit).where(ComplianceAudit.retention_until <= now))
    count = int(result.rowcount or 0)
    if count:
        await audit(session, action="purge", now=now, detail={"records": count})
    return count


# --------------------------------------------------------------------------- team rules

def _check_rule_text(text: str, key: str) -> str:
    text = text.strip()
    if len(normalize_term(text.replace("{n}", "1").replace("*", "字"))) < 2 or len(text) > 50:
        raise RuleError(key, text=text[:20])
    return text


async def add_term(session: AsyncSession, *, term: str, category: str, severity: str, reason: str, by: str,
                   now: datetime, chat_id: str, team: str = DEFAULT_TEAM) -> tuple[ComplianceTerm, bool]:
    """Add or update a team term; returns (row, created)."""
    term = _check_rule_text(term, "compliance.term_bad")
    if category not in TERM_CATEGORIES or severity not in (BLOCK, WARN):
        raise ValueError("category or severity")
    try:
        Checker([Term(term, category, severity, TEAM_BASIS, reason or "x")])
    except ValueError:
        raise RuleError("compliance.term_bad", text=term[:20]) from None
    row = (await session.execute(select(ComplianceTerm).where(ComplianceTerm.team == team,
                                                              ComplianceTerm.term == term))).scalars().first()
    created = row is None
    if row is None:
        row = ComplianceTerm(team=team, term=term, category=category, severity=severity, reason=reason[:500],
                             created_by=by, created_at=now)
        session.add(row)
    else:
        row.category, row.severity, row.reason = category, severity, reason[:500]
        row.created_by, row.created_at = by, now
    await audit(session, action="term.add", now=now, user_id=by, chat_id=chat_id, team=team,
                detail={"term": term, "category": category, "severity": severity, "reason": reason[:500]})
    return row, created


async def delete_term(session: AsyncSession, *, term: str, by: str, now: datetime, chat_id: str,
                      team: str = DEFAULT_TEAM) -> bool:
    result = await session.execute(delete(ComplianceTerm).where(ComplianceTerm.team == team,
                                                                ComplianceTerm.term == term.strip()))
    if result.rowcount:
        await audit(session, action="term.delete", now=now, user_id=by, chat_id=chat_id, team=team,
                    detail={"term": term.strip()})
    return bool(result.rowcount)


async def add_exemption(session: AsyncSession, *, phrase: str, kind: str, by: str, now: datetime, chat_id: str,
                        team: str = DEFAULT_TEAM) -> tuple[ComplianceExemption, bool]:
    phrase = _check_rule_text(phrase, "compliance.exempt_bad")
    if kind not in EXEMPTION_KINDS:
        raise ValueError("kind")
    row = (await session.execute(select(ComplianceExemption).where(
        ComplianceExemption.team == team, ComplianceExemption.phrase == phrase))).scalars().first()
    created = row is None
    if row is None:
        row = ComplianceExemption(team=team, phrase=phrase, kind=kind, created_by=by, created_at=now)
        session.add(row)
    else:
        row.kind, row.created_by, row.created_at = kind, by, now
    await audit(session, action="exempt.add", now=now, user_id=by, chat_id=chat_id, team=team,
                detail={"phrase": phrase, "kind": kind})
    return row, created


async def delete_exemption(session: AsyncSession, *, phrase: str, by: str, now: datetime, chat_id: str,
                           team: str = DEFAULT_TEAM) -> bool:
    result = await session.execute(delete(ComplianceExemption).where(ComplianceExemption.team == team,
                                                                     ComplianceExemption.phrase == phrase.strip()))
    if result.rowcount:
        await audit(session, action="exempt.delete", now=now, user_id=by, chat_id=chat_id, team=team,
                    detail={"phrase": phrase.strip()})
    return bool(result.rowcount)


# --------------------------------------------------------------------------- export

@dataclass(frozen=True)
class Export:
    file_name: str
    data: bytes
    count: int


EXPORT_COLUMNS = (
    "record", "team", "chat_id", "chat_name", "user_id", "user_name", "created_at", "source", "file_name",
    "source_message_id", "verdict", "block_count", "warn_count", "total_count", "status", "overridden_by",
    "overridden_at", "override_reason", "previous_record", "stream_id", "retention_until", "hits",
    "exempted", "text",
)


async def export_records(session: AsyncSession, *, period: Period | None, now: datetime, tz: ZoneInfo, by: str,
                         chat_id: str, team: str = DEFAULT_TEAM,
                         years: int = DEFAULT_RETENTION_YEARS) -> Export:
    """Every field of the team's records in the period (None: all of them) as a UTF-8 CSV
    (with BOM, for Excel); the export itself goes to the audit log."""
    start, end = period.utc_bounds(tz) if period is not None else (None, None)
    scope = period.key if period is not None else "all"
    query = select(ComplianceRecord).where(ComplianceRecord.team == team)
    if start is not None:
        query = query.where(ComplianceRecord.created_at >= start)
    if end is not None:
        query = query.where(ComplianceRecord.created_at < end)
    records = list((await session.execute(query.order_by(ComplianceRecord.id))).scalars())
    people = {r.user_id for r in records} | {r.overridden_by for r in records if r.overridden_by}
    who: dict[str, str] = dict((await session.execute(select(Person.open_id, Person.name).where(
        Person.open_id.in_(people)))).all()) if people else {}
    chats: dict[str, str] = dict((await session.execute(select(Chat.chat_id, Chat.name).where(
        Chat.chat_id.in_({r.chat_id for r in records})))).all()) if records else {}

    def local(dt: datetime | None) -> str:
        return dt.astimezone(tz).isoformat(timespec="seconds") if dt else ""

    rows = [(record_ref(r.id), r.team, r.chat_id, chats.get(r.chat_id, ""), r.user_id, who.get(r.user_id, ""),
             local(r.created_at), r.source, r.file_name, r.source_message_id, r.verdict, r.block_count,
             r.warn_count, r.total_count, r.status, r.overridden_by, local(r.overridden_at), r.override_reason,
             record_ref(r.previous_id) if r.previous_id else "", r.stream_id, local(r.retention_until),
             json.dumps(r.hits, ensure_ascii=False), json.dumps(r.exempted, ensure_ascii=False), r.text)
            for r in records]
    stamp = now.astimezone(tz).strftime("%Y%m%d-%H%M")
    file_name = f"compliance-records-{scope}-{stamp}.csv"
    await audit(session, action="export", now=now, user_id=by, chat_id=chat_id, team=team,
                detail={"scope": scope, "count": len(records), "file": file_name}, years=years)
    return Export(file_name, csvsafe.to_bytes(EXPORT_COLUMNS, rows), len(records))  # the one CSV writer


# --------------------------------------------------------------------------- a message's text

@dataclass(frozen=True)
class MessageContent:
    msg_type: str
    text: str = ""
    file_key: str = ""
    file_name: str = ""


async def fetch_message(platform: Any, message_id: str) -> MessageContent | None:
    """Read a message through the Open API: text and post give their text, a file its key.
    None when the message cannot be read."""
    from bot.feishu import groupmode
    from bot.feishu.events import _content_text  # the same reading as incoming events

    result = await platform.call("GET", "/open-apis/im/v1/messages/:message_id", paths={"message_id": message_id})
    groupmode.check_group_read(result)  # @-only mode: say which scope reading it needs
    items = result.data.get("items") if result.ok else None
    if not items or not isinstance(items[0], dict):
        return None
    item = items[0]
    msg_type = str(item.get("msg_type", ""))
    try:
        content = json.loads((item.get("body") or {}).get("content") or "{}")
    except (TypeError, ValueError):
        return None
    if not isinstance(content, dict):
        return None
    if msg_type == "file":
        return MessageContent(msg_type, file_key=str(content.get("file_key", "")),
                              file_name=str(content.get("file_name", "")))
    if msg_type not in ("text", "post"):
        return MessageContent(msg_type)
    text, _, _ = _content_text(msg_type, content, "")
    mentions = [m for m in item.get("mentions") or [] if isinstance(m, dict) and m.get("key")]
    for m in sorted(mentions, key=lambda m: -len(str(m["key"]))):  # @_user_10 before @_user_1
        text = text.replace(str(m["key"]), f"@{m.get('name', '')}")
    return MessageContent(msg_type, text=text.strip())
