"""The response policy: ack and resolve targets per severity, the escalation ladder, where
P2/P3 go, office hours. Defaults follow the seed (feedback within 10 minutes, fault
handling ≤ 10 minutes); every number can be changed with a BOT_FAULT_* setting.

Settings (environment / .env, read through ``Settings.extra`` or the environment):
  BOT_FAULT_ACK_MINUTES      "P0=10,P1=10,P2=30,P3=120"
  BOT_FAULT_RESOLVE_MINUTES  "P0=30,P1=60,P2=240,P3=1440"
  BOT_FAULT_NUDGE_MINUTES    "P0=10,P1=15,P2=60,P3=240"  (acked, not resolved: nudge every …)
  BOT_FAULT_PAID_URGENT      "" | sms | phone  (paid buzz at the breach step; off by default)
  BOT_FAULT_GROUP_SEVERITIES "P0,P1"  (severities that get a dedicated group; others a thread)
  BOT_FAULT_MERGE_MINUTES    30  (a report without a room joins the same group's open ticket of
                             its category with activity in the last N minutes; a report with a
                             room joins that room's open ticket of its category, however old)
  BOT_FAULT_OFFICE_HOURS     "09:00-18:00" (on working days of the Chinese calendar)

Two escalation paths, chosen when the fault is reported (``Policy.ladder``):
* office hours (a working day of bot.timeparse.workdays, holidays and make-up days included,
  within BOT_FAULT_OFFICE_HOURS): T+0 buzz the on-call; T+ack/2 (T+5) buzz again and pull in
  the backup; T+ack (T+10) SLA breach: the ops leads and tech leads are pulled in and buzzed.
* off hours (nights, weekends, holidays): T+0 buzz the on-call AND the backup; T+ack/2 (T+5)
  buzz again and escalate to the ops leads at once (step "lead") instead of waiting for the
  breach; T+ack (T+10) the breach as above (tech leads, paid buzz, recorded).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.faults.models import Step

SEVERITIES = ("P0", "P1", "P2", "P3")


def _table(raw: str, default: dict[str, int]) -> dict[str, int]:
    out = dict(default)
    for part in raw.replace(";", ",").split(","):
        if "=" in part:
            key, _, value = part.partition("=")
            key = key.strip().upper()
            if key in SEVERITIES and value.strip().isdigit() and int(value) > 0:
                out[key] = int(value)
    return out


@dataclass(frozen=True)
class Policy:
    ack_minutes: dict[str, int] = field(default_factory=lambda: {"P0": 10, "P1": 10, "P2": 30, "P3": 120})
    resolve_minutes: dict[str, int] = field(default_factory=lambda: {"P0": 30, "P1": 60, "P2": 240, "P3": 1440})
    nudge_minutes: dict[str, int] = field(default_factory=lambda: {"P0": 10, "P1": 15, "P2": 60, "P3": 240})
    paid_urgent: str = ""  # "", "sms" or "phone"
    group_severities: tuple[str, ...] = ("P0", "P1")
    merge_minutes: int = 30  # reports without a room: same group and category within this
    office_start: time = time(9, 0)
    office_end: time = time(18, 0)

    def ack(self, severity: str) -> int:
        return self.ack_minutes.get(severity, 10)

    def second_buzz(self, severity: str) -> float:
        """Minutes after the report when an unacked fault is buzzed again and the backup joins:
        half the ack target (T+5 for a 10-minute target)."""
        return self.ack(severity) / 2

    def ladder(self, severity: str, off_hours: bool) -> list[tuple[Step, float]]:
        """The unacked steps as (step, minutes after the report): see the module docstring."""
        return [(Step.LEAD if off_hours else Step.ACK2, self.second_buzz(severity)), (Step.BREACH, self.ack(severity))]

    def resolve(self, severity: str) -> int:
        return self.resolve_minutes.get(severity, 60)

    def nudge(self, severity: str) -> int:
        return self.nudge_minutes.get(severity, 15)

    def wants_group(self, severity: str) -> bool:
        return severity in self.group_severities

    def office_hours(self, when: datetime, tz: ZoneInfo) -> bool:
        """Working day (Chinese calendar with make-up days) and within office hours."""
        from bot.timeparse.workdays import is_working_day

        local = when.astimezone(tz)
        try:
            working = is_working_day(local.date())
        except Exception:  # noqa: BLE001 - a year the calendar does not cover: weekdays only
            working = local.weekday() < 5
        return working and self.office_start <= local.time() < self.office_end


def load(extra: dict[str, str] | None = None) -> Policy:
    values = {**os.environ, **(extra or {})}
    base = Policy()

    def get(name: str) -> str:
        return str(values.get(f"BOT_FAULT_{name}", "") or "").strip()

    paid = get("PAID_URGENT").lower()
    groups = tuple(s.strip().upper() for s in get("GROUP_SEVERITIES").split(",") if s.strip().upper() in SEVERITIES)
    merge = get("MERGE_MINUTES")
    office = get("OFFICE_HOURS")
    start, end = base.office_start, base.office_end
    if "-" in office:
        try:
            a, b = office.split("-", 1)
            start, end = time.fromisoformat(a.strip()), time.fromisoformat(b.strip())
        except ValueError:
            pass
    return Policy(ack_minutes=_table(get("ACK_MINUTES"), base.ack_minutes),
                  resolve_minutes=_table(get("RESOLVE_MINUTES"), base.resolve_minutes),
                  nudge_minutes=_table(get("NUDGE_MINUTES"), base.nudge_minutes),
                  paid_urgent=paid if paid in ("sms", "phone") else "",
                  group_severities=groups or base.group_severities,
                  merge_minutes=int(merge) if merge.isdigit() else base.merge_minutes,
                  office_start=start, office_end=end)
