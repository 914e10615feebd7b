"""Cards of the compliance feature (pure: texts come in through ``t``, a ``ctx.t``).

The check card's header colour carries the verdict: green 通过, orange 建议修改, red 必须修改.
Its body is ``report.render_markdown`` (hits highlighted in context, category, severity,
basis, suggestions), which keeps itself small; should the card JSON still exceed Feishu's
limit (heavy escaping), fewer hits are shown.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from bot.cards import Card, CardTooLarge, escape_md
from bot.compliance.matcher import CheckResult, Verdict
from bot.compliance.models import ComplianceExemption, ComplianceRecord, ComplianceTerm
from bot.compliance.report import VERDICT_COLORS, render_markdown
from bot.compliance.service import record_ref

T = Callable[..., str]
HIT_STEPS = (30, 12, 5, 1)


def verdict_label(verdict: str, locale: str) -> str:
    return Verdict(verdict).label(locale)


def _colored(verdict: str, locale: str) -> str:
    v = Verdict(verdict)
    return f"<font color='{VERDICT_COLORS[v]}'>{v.label(locale)}</font>"


def _report(result: CheckResult, locale: str, max_hits: int, labels: Sequence[str] | None) -> str:
    md = render_markdown(result, locale, max_hits=max_hits, line_labels=labels)
    first, _, rest = md.partition("\n")  # the title line repeats the card header
    return rest.lstrip("\n") if first.startswith("**") else md


def _fit(build: Callable[[int], Card]) -> dict:
    """The card as a dict, with fewer hits shown until it fits Feishu's limits."""
    for max_hits in HIT_STEPS:
        try:
            return build(max_hits).to_dict(strict=True)
        except CardTooLarge:
            continue
    return build(0).to_dict()


def _source(t: T, record: ComplianceRecord, markdown: bool = True) -> str:
    label = t(f"compliance.source_{record.source}")
    if record.file_name:
        name = escape_md(record.file_name) if markdown else record.file_name
        label += t("compliance.source_file_name", name=name)
    return label


def _date(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%Y-%m-%d")


def _time(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def check_card(t: T, locale: str, record: ComplianceRecord, result: CheckResult, tz: ZoneInfo,
               labels: Sequence[str] | None = None) -> dict:
    """The answer to a check."""
    verdict = result.verdict.value

    def build(max_hits: int) -> Card:
        card = Card(t("compliance.card_title", verdict=verdict_label(verdict, locale)),
                    template=VERDICT_COLORS[result.verdict],
                    subtitle=t("compliance.card_subtitle", ref=record_ref(record.id),
                               source=_source(t, record, markdown=False)))
        card.markdown(_report(result, locale, max_hits, labels))
        if record.previous_id:
            card.markdown(t("compliance.recheck_of", ref=record_ref(record.previous_id)))
        note = t("compliance.note_pass") if result.verdict == Verdict.PASS else t("compliance.note_fix")
        card.note(note + " " + t("compliance.note_record", ref=record_ref(record.id),
                                 until=_date(record.retention_until, tz)))
        return card

    return _fit(build)


def record_card(t: T, locale: str, record: ComplianceRecord, result: CheckResult, tz: ZoneInfo,
                names: dict[str, str], followup_id: int | None) -> dict:
    """One stored record: who, when, where from, what was found, and what happened since."""

    def build(max_hits: int) -> Card:
        ref = record_ref(record.id)
        card = Card(t("compliance.record_title", ref=ref, verdict=verdict_label(record.verdict, locale)),
                    template=VERDICT_COLORS[Verdict(record.verdict)])
        pairs = [(t("compliance.f_time"), _time(record.created_at, tz)),
                 (t("compliance.f_who"), escape_md(names.get(record.user_id, record.user_id))),
                 (t("compliance.f_source"), _source(t, record)),
                 (t("compliance.f_counts"), t("compliance.counts", block=record.block_count,
                                              warn=record.warn_count)),
                 (t("compliance.f_retention"), _date(record.retention_until, tz))]
        if record.stream_id:
            pairs.append((t("compliance.f_stream"), str(record.stream_id)))
        card.fields(pairs)
        links = []
        if record.status == "overridden" and record.overridden_at:
            links.append(t("compliance.overridden_line",
                           who=escape_md(names.get(record.overridden_by or "", record.overridden_by or "")),
                           time=_time(record.overridden_at, tz), reason=escape_md(record.override_reason or "")))
        if record.previous_id:
            links.append(t("compliance.recheck_of", ref=record_ref(record.previous_id)))
        if followup_id:
            links.append(t("compliance.followed_by", ref=record_ref(followup_id)))
        card.markdown("\n".join(links))
        card.hr()
        card.markdown(_report(result, locale, max_hits, record.line_labels))
        return card

    return _fit(build)


def _status_tag(t: T, record: ComplianceRecord) -> str:
    return " " + t("compliance.tag_overridden") if record.status == "overridden" else ""


def records_card(t: T, locale: str, records: Sequence[ComplianceRecord], tz: ZoneInfo,
                 names: dict[str, str], *, stream_id: int | None = None) -> Card:
    """This chat's recent records, or (``stream_id``) the records of one stream."""
    if stream_id is not None:
        card = Card(t("compliance.stream_records_title", id=stream_id), template="wathet")
        if not records:
            return card.markdown(t("compliance.stream_records_empty", id=stream_id))
    else:
        card = Card(t("compliance.records_title"), template="wathet")
        if not records:
            return card.markdown(t("compliance.records_empty"))
    lines = []
    for r in records:
        extra = f" · {escape_md(r.file_name)}" if r.file_name else ""
        lines.append(t("compliance.records_line", ref=record_ref(r.id), time=_time(r.created_at, tz),
                       who=escape_md(names.get(r.user_id, r.user_id)), verdict=_colored(r.verdict, locale),
                       counts=t("compliance.counts", block=r.block_count, warn=r.warn_count))
                     + extra + _status_tag(t, r))
    card.markdown("\n".join(lines))
    card.note(t("compliance.records_hint"))
    return card


def terms_card(t: T, terms: Sequence[ComplianceTerm]) -> Card:
    card = Card(t("compliance.terms_title"), template="wathet")
    if not terms:
        return card.markdown(t("compliance.terms_empty"))
    lines = [t("compliance.terms_line", term=escape_md(x.term), category=escape_md(x.category),
               severity=t(f"compliance.sev_{x.severity}"), reason=escape_md(x.reason or "-")) for x in terms]
    card.markdown("\n".join(lines))
    return card


def exemptions_card(t: T, exemptions: Sequence[ComplianceExemption]) -> Card:
    card = Card(t("compliance.exempt_title"), template="wathet")
    if not exemptions:
        return card.markdown(t("compliance.exempt_empty"))
    card.markdown("\n".join(t("compliance.exempt_line", phrase=escape_md(x.phrase), kind=x.kind)
                            for x in exemptions))
    return card
