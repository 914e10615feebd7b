"""Cards of fault response: the ticket card (same in the reporting group and the fault
group), the change form, the summary, the list, the details with timeline, the statistics."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import records
from bot.access import Scope
from bot.commands.registry import card_action
from bot.cards import Button, Card, Input, Select, escape_md
from bot.faults.classify import Category, category_label
from bot.faults.models import ACKED, RESOLVED, Fault, FaultEvent
from bot.faults.runbook import first_steps
from bot.faults.stats import Stats, fmt_minutes, fmt_rate
from bot.i18n import t

TEMPLATES = {"P0": "red", "P1": "orange", "P2": "yellow", "P3": "blue"}



# The buttons fault cards carry (handlers: bot/commands/fault.py); the flows also check who may act.
ACK = card_action("fault.ack", label=("认领故障", "acknowledge the fault"), scope=Scope.RECORD, record=records.FAULT)
RESOLVE = card_action("fault.resolve", label=("解决故障", "resolve the fault"), scope=Scope.RECORD,
                      record=records.FAULT)
ESCALATE = card_action("fault.escalate", label=("升级故障", "escalate the fault"), scope=Scope.RECORD,
                       record=records.FAULT)
CHANGE = card_action("fault.change", label=("修改故障", "change the fault"), scope=Scope.RECORD, record=records.FAULT)
CHANGE_SAVE = card_action("fault.change_save", label=("保存修改", "save the change"), scope=Scope.RECORD,
                          record=records.FAULT)
# "这是故障吗？": anyone may report a fault (Scope.OPEN); the handler lets only the message's
# author or ops decide (a toast tells anyone else), since the value names the author.
ASK_FILE = card_action("fault.ask_file", label=("登记为故障", "file it as a fault"), scope=Scope.OPEN)
ASK_NO = card_action("fault.ask_no", label=("不是故障", "not a fault"), scope=Scope.OPEN)
ASK_TEXT_MAX = 500

def at(open_id: str) -> str:
    return f"<at id={open_id}></at>" if open_id else ""


def people(ids: list[str] | tuple[str, ...], none: str) -> str:
    return " ".join(at(i) for i in ids if i) or none


def hm(when: datetime | None, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%H:%M") if when else "-"


def mdhm(when: datetime | None, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%m-%d %H:%M") if when else "-"


def duration(seconds: float, locale: str) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return t(locale, "faults.dur_h", h=hours, m=minutes)
    return t(locale, "faults.dur_m", m=minutes, s=secs)


def room_text(f: Fault, locale: str) -> str:
    return f.room_name or t(locale, "faults.room_unknown")


def title(f: Fault, locale: str) -> str:
    return f"[{f.severity}] {room_text(f, locale)} {category_label(Category(f.category), locale)} #{f.id}"


def group_name(f: Fault, locale: str) -> str:
    short = t(locale, f"faults.short.{f.category}")
    return f"[{f.severity}] {room_text(f, locale)} {short} #{f.id}"[:60]


def live_text(f: Fault, locale: str) -> str:
    return t(locale, f"faults.live.{f.live or 'none'}")


def status_text(f: Fault, locale: str, tz: ZoneInfo) -> str:
    if f.status == RESOLVED:
        return t(locale, "faults.status.resolved", who=at(f.resolved_by), when=hm(f.resolved_at, tz))
    if f.status == ACKED:
        return t(locale, "faults.status.acked", who=at(f.acked_by), when=hm(f.acked_at, tz))
    return t(locale, "faults.status.open")


def ticket(f: Fault, locale: str, tz: ZoneInfo, *, ack_due: datetime, note: str = "") -> Card:
    resolved = f.status == RESOLVED
    card = Card(("✅ " if resolved else "🚨 ") + title(f, locale),
                template="green" if resolved else TEMPLATES.get(f.severity, "red"),
                subtitle=t(locale, "faults.card_subtitle", when=mdhm(f.created_at, tz)))
    card.fields([
        (t(locale, "faults.f.category"), category_label(Category(f.category), locale)),
        (t(locale, "faults.f.severity"), f.severity + (f" ({t(locale, 'faults.raised_from', base=f.base_severity)})"
                                                       if f.base_severity and f.base_severity != f.severity else "")),
        (t(locale, "faults.f.room"), room_text(f, locale)),
        (t(locale, "faults.f.live"), live_text(f, locale)),
        (t(locale, "faults.f.reporter"), at(f.reporter_id) + (f" (+{f.reports - 1})" if f.reports > 1 else "")),
        (t(locale, "faults.f.status"), status_text(f, locale, tz)),
        (t(locale, "faults.f.oncall"), people(f.oncall_ids, t(locale, "faults.nobody_oncall"))),
        (t(locale, "faults.f.where"), t(locale, f"faults.where.{f.mode or 'pending'}", name=f.group_name)),
    ])
    if note:
        card.markdown(note)
    reasons = "\n".join(f"- {escape_md(r)}" for r in f.reasons)
    card.markdown(f"**{t(locale, 'faults.f.reasons')}**（{t(locale, 'faults.confidence', c=f'{f.confidence:.2f}')}）\n{reasons}")
    if f.text:
        card.markdown(f"**{t(locale, 'faults.f.text')}**\n{escape_md(f.text[:500])}")
    if resolved:
        card.markdown(f"**{t(locale, 'faults.f.cause')}**：{escape_md(f.cause) or '-'}\n"
                      f"**{t(locale, 'faults.f.fix')}**：{escape_md(f.fix) or '-'}")
        return card
    steps = "\n".join(f"{i}. {s}" for i, s in enumerate(first_steps(Category(f.category), locale, f.text), 1))
    card.markdown(f"**{t(locale, 'faults.f.steps')}**\n{steps}")
    sla = t(locale, "faults.sla_ack", when=hm(ack_due, tz)) if f.status != ACKED else ""
    if f.ack_breached:
        sla = t(locale, "faults.sla_breached_note")
    card.note(sla)
    value = {"id": f.id}
    buttons = [Button(t(locale, "faults.b.escalate"), ESCALATE(**value), kind="danger"),
               Button(t(locale, "faults.b.change"), CHANGE(**value))]
    if f.status != ACKED:
        buttons.insert(0, Button(t(locale, "faults.b.ack"), ACK(**value), kind="primary_filled"))
    card.buttons(*buttons)
    card.form(f"resolve_{f.id}", [
        Input("cause", t(locale, "faults.f.cause"), placeholder=t(locale, "faults.ph.cause")),
        Input("fix", t(locale, "faults.f.fix"), placeholder=t(locale, "faults.ph.fix")),
    ], Button(t(locale, "faults.b.resolve"), RESOLVE(**value), kind="primary"))
    return card


def ask(text: str, what: str, author: str, locale: str, *, message_id: str, images: list[str]) -> Card:
    """"这是故障吗？" for a mention that names a room or a live-stream term but no symptom; the
    buttons carry what filing needs (the author, the text, the message and its images)."""
    value = {"by": author, "text": text[:ASK_TEXT_MAX], "msg": message_id, "img": images[:3]}
    card = Card(t(locale, "faults.ask_title"), template="yellow")
    card.markdown(t(locale, "faults.ask_body", what=escape_md(what), text=escape_md(text[:ASK_TEXT_MAX]),
                    who=at(author)))
    card.buttons(Button(t(locale, "faults.b.ask_file"), ASK_FILE(**value), kind="primary"),
                 Button(t(locale, "faults.b.ask_no"), ASK_NO(**value)))
    card.note(t(locale, "faults.ask_note"))
    return card


def ask_answered(title: str, line: str) -> Card:
    """The question card once answered: no buttons left."""
    return Card(title, template="grey").markdown(line)


def change_form(f: Fault, locale: str) -> Card:
    card = Card(t(locale, "faults.change_title", id=f.id), template="wathet")
    cats = [(category_label(c, locale), c.value) for c in Category]
    sevs = [(s, s) for s in ("P0", "P1", "P2", "P3")]
    card.form(f"change_{f.id}", [
        Select("category", t(locale, "faults.f.category"), cats, default=f.category),
        Select("severity", t(locale, "faults.f.severity"), sevs, default=f.severity),
        Input("room", t(locale, "faults.f.room"), placeholder=t(locale, "faults.ph.room")),
    ], Button(t(locale, "faults.b.save"), CHANGE_SAVE(id=f.id), kind="primary"))
    return card


def summary(f: Fault, events: list[FaultEvent], names: dict[str, str], locale: str, tz: ZoneInfo) -> Card:
    card = Card("✅ " + t(locale, "faults.summary_title", title=title(f, locale)), template="green")
    tta = (f.acked_at - f.created_at).total_seconds() if f.acked_at else 0
    ttr = (f.resolved_at - f.created_at).total_seconds() if f.resolved_at else 0
    card.fields([
        (t(locale, "faults.f.tta"), duration(tta, locale)),
        (t(locale, "faults.f.ttr"), duration(ttr, locale) + (" ✅" if ttr <= 600 else " ⚠️")),
        (t(locale, "faults.f.acked_by"), names.get(f.acked_by, "-")),
        (t(locale, "faults.f.resolved_by"), names.get(f.resolved_by, "-")),
        (t(locale, "faults.f.cause"), escape_md(f.cause) or "-"),
        (t(locale, "faults.f.fix"), escape_md(f.fix) or "-"),
    ])
    if f.ack_breached or f.resolve_breached:
        card.markdown(t(locale, "faults.summary_breach"))
    card.markdown(f"**{t(locale, 'faults.f.timeline')}**\n" + timeline_md(events, names, locale, tz))
    return card


def timeline_md(events: list[FaultEvent], names: dict[str, str], locale: str, tz: ZoneInfo, limit: int = 30) -> str:
    lines = []
    for e in events[-limit:]:
        who = names.get(e.by, "") if e.by else ""
        text = t(locale, f"faults.ev.{e.kind}", who=who, text=escape_md(e.text[:200]), **{
            k: v for k, v in (e.data or {}).items() if k not in ("who", "text")})
        if (e.data or {}).get("images"):
            text += t(locale, "faults.ev.images", n=e.data["images"])
        lines.append(f"- `{hm(e.at, tz)}` {text}")
    return "\n".join(lines) or "-"


def details(f: Fault, events: list[FaultEvent], names: dict[str, str], locale: str, tz: ZoneInfo,
            ack_due: datetime) -> Card:
    card = ticket(f, locale, tz, ack_due=ack_due)
    card.markdown(f"**{t(locale, 'faults.f.timeline')}**\n" + timeline_md(events, names, locale, tz))
    return card


def listing(faults: list[Fault], names: dict[str, str], locale: str, tz: ZoneInfo) -> Card:
    card = Card(t(locale, "faults.list_title", n=len(faults)), template="orange" if faults else "green")
    if not faults:
        card.markdown(t(locale, "faults.list_empty"))
        return card
    lines = []
    for f in faults:
        state = t(locale, f"faults.state.{f.status}")
        who = names.get(f.acked_by, "") if f.acked_by else people(f.oncall_ids, t(locale, "faults.nobody_oncall"))
        lines.append(f"- **#{f.id}** [{f.severity}] {room_text(f, locale)} · "
                     f"{category_label(Category(f.category), locale)} · {state} · {who} · {mdhm(f.created_at, tz)}"
                     + (" · ⚠️SLA" if f.ack_breached or f.resolve_breached else ""))
    card.markdown("\n".join(lines))
    card.note(t(locale, "faults.list_hint"))
    return card


def stats_card(stats: Stats, label: str, names: dict[str, str], locale: str) -> Card:
    card = Card(t(locale, "faults.stats_title", period=label), template="indigo")
    tot = stats.total
    if not tot.count:
        card.markdown(t(locale, "faults.stats_empty"))
        return card
    card.fields([
        (t(locale, "faults.s.count"), str(tot.count)),
        (t(locale, "faults.s.resolved"), str(tot.resolved)),
        ("MTTA", fmt_minutes(tot.mtta)),
        ("MTTR", fmt_minutes(tot.mttr)),
        (t(locale, "faults.s.breach"), fmt_rate(tot.breach_rate)),
        (t(locale, "faults.s.kpi"), fmt_rate(tot.kpi_rate)),
    ])
    head = f"| {{}} | {t(locale, 'faults.s.count')} | MTTA | MTTR | {t(locale, 'faults.s.breach')} | ≤10′ |"
    for key, groups, label_of in (
            ("faults.s.by_category", stats.by_category, lambda k: category_label(Category(k), locale)),
            ("faults.s.by_room", stats.by_room, lambda k: k or t(locale, "faults.room_unknown")),
            ("faults.s.by_tech", stats.by_tech, lambda k: names.get(k, k[-6:]) if k else "-")):
        rows = [f"| {label_of(k)} | {g.count} | {fmt_minutes(g.mtta)} | {fmt_minutes(g.mttr)} | "
                f"{fmt_rate(g.breach_rate)} | {fmt_rate(g.kpi_rate)} |" for k, g in groups.items()]
        card.markdown("\n".join([head.format(t(locale, key)), "|---|---:|---:|---:|---:|---:|", *rows]))
    card.note(t(locale, "faults.stats_note"))
    return card
