"""The escalation ladder as one table, read by one function (:func:`climb`).

Each rung says when it applies (the ticket's status), whom it pulls into the fault group,
whom it buzzes, the text it posts where the response happens, and the timeline event it
records. The SLA timers (bot.faults.sla) name a rung by its step; the order of the work is
the same for every rung: mark the breach, pull people in, post, buzz (and the paid buzz),
tell the reporting group, record the event, count the breach, refresh the cards, re-arm.

People are named by group: ``oncall``, ``backup``, ``leads`` (the ops leads), ``tech_leads``,
``acker`` (whoever acked), ``actor`` (who asked for the rung: /故障 升级).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.context import Ctx
from bot.faults import flows, service
from bot.faults.models import ACKED, GROUP, OPEN, Fault, FaultStatus, Step
from bot.i18n import t
from bot.metrics import count


PEOPLE = {
    "oncall": lambda f: f.oncall_ids,
    "backup": lambda f: f.backup_ids,
    "leads": lambda f: f.lead_ids,
    "tech_leads": lambda f: f.tech_lead_ids,
    "acker": lambda f: [f.acked_by],
}
ACTOR = "actor"


@dataclass(frozen=True)
class Rung:
    step: Step
    status: tuple[FaultStatus, ...]        # the rung does nothing in any other status
    text: str                              # i18n key, posted where the response happens
    minutes: str = "elapsed"               # {minutes}: "elapsed" since the report, or the "ack"/"resolve" target
    pull_in: tuple[str, ...] = ()          # added to the fault group
    buzz: tuple[str, ...] = ()             # buzzed in the app
    buzz_if_nobody: tuple[str, ...] = ()   # buzzed when ``buzz`` names nobody
    mentions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # text placeholder → people
    blank: dict[str, str] = field(default_factory=dict)  # placeholder → i18n key when nobody ("-" else)
    event: str = ""                        # timeline event kind
    breach: str = ""                       # "ack" / "resolve": the breach flag set and counted
    paid: bool = False                     # also buzz ``pull_in`` by SMS/phone (BOT_FAULT_PAID_URGENT)
    report: str = ""                       # i18n key also sent to the reporting group when a fault group exists
    refresh: bool = False                  # update the ticket cards
    repeat: int = 0                        # re-armed until the n-th time (nudges)


LADDER: dict[Step, Rung] = {r.step: r for r in (
    Rung(Step.ACK2, (OPEN,), "faults.ack2_text", pull_in=("backup",), buzz=("oncall", "backup"),
         buzz_if_nobody=("leads",), mentions={"who": ("oncall",), "backup": ("backup",)},
         blank={"backup": "faults.no_backup"}, event="ack2"),
    Rung(Step.LEAD, (OPEN,), "faults.offhours_lead_text", pull_in=("backup", "leads"),
         buzz=("leads", "oncall", "backup"), mentions={"leads": ("leads",), "who": ("oncall",)},
         event="offhours_lead"),
    Rung(Step.BREACH, (OPEN,), "faults.breach_text", minutes="ack", pull_in=("leads", "tech_leads"),
         buzz=("leads", "tech_leads", "oncall", "backup"),
         mentions={"leads": ("leads", "tech_leads"), "who": ("oncall",)}, event="breach", breach="ack",
         paid=True, report="faults.breach_report", refresh=True),
    Rung(Step.NUDGE, (ACKED,), "faults.nudge_text", mentions={"who": ("acker",)}, repeat=12),
    Rung(Step.RESOLVE, (OPEN, ACKED), "faults.resolve_breach_text", minutes="resolve",
         pull_in=("leads", "tech_leads"), buzz=("leads", "tech_leads"), mentions={"leads": ("leads", "tech_leads")},
         event="resolve_breach", breach="resolve"),
    Rung(Step.ESCALATE, (OPEN, ACKED), "faults.escalated_text", pull_in=("leads", "tech_leads"),
         buzz=("leads", "tech_leads"), mentions={"leads": ("leads", "tech_leads"), "who": (ACTOR,)},
         event="escalated", refresh=True),
)}
MAX_NUDGES = LADDER[Step.NUDGE].repeat


def people(f: Fault, groups: tuple[str, ...], actor: str = "") -> list[str]:
    return list(dict.fromkeys(i for g in groups for i in ([actor] if g == ACTOR else PEOPLE[g](f)) if i))


async def climb(ctx: Ctx, f: Fault, step: str, n: int = 1, *, by: str = "", **details: str) -> bool:
    """Do rung ``step`` for the ticket; False when its status does not call for it. ``by`` is
    who asked for it (recorded, and the ``actor`` of the text); ``details`` go into the text
    and the timeline event."""
    try:
        rung = LADDER[Step(step)]
    except ValueError:
        return False
    if f.status not in rung.status or f.id is None:
        return False
    now = ctx.now()
    pol = flows.policy(ctx)
    if rung.minutes == "ack":
        minutes = pol.ack(f.severity)
    elif rung.minutes == "resolve":
        minutes = pol.resolve(f.severity)
    else:
        minutes = int((now - f.created_at).total_seconds() // 60)
    if rung.breach:
        setattr(f, f"{rung.breach}_breached", True)
        f.updated_at = now
    pulled = people(f, rung.pull_in)
    if rung.pull_in:
        await flows.add_members(ctx, f, pulled)
    said = {key: flows.mentions(people(f, groups, by)) or (t(f.locale, rung.blank[key]) if key in rung.blank else "-")
            for key, groups in rung.mentions.items()}
    await flows.post(ctx, f, t(f.locale, rung.text, id=f.id, minutes=minutes, **details, **said))
    if rung.buzz:
        await flows.buzz(ctx, f, people(f, rung.buzz) or people(f, rung.buzz_if_nobody))
    paid = pol.paid_urgent if rung.paid else ""
    if paid:
        await flows.buzz(ctx, f, pulled, kind=paid)
    if rung.report and f.mode == GROUP and f.group_chat_id:
        await ctx.send(f.chat_id, t(f.locale, rung.report, id=f.id, minutes=minutes))
    if rung.event:
        extra = {"paid": paid or "-"} if rung.paid else {}
        await service.add_event(ctx.session, f.id, rung.event, by=by, at=now, minutes=minutes, **details, **extra)
    if rung.breach:
        count(ctx, "sla_breaches", kind=rung.breach)
    if rung.refresh:
        await flows.refresh_cards(ctx, f)
    if rung.repeat and n < rung.repeat:
        await flows.schedule_nudge(ctx, f, n + 1)
    return True
