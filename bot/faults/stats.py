"""Fault statistics over plain records: MTTA, MTTR, SLA breach rate, the seed's KPI
"fault handling time ≤ 10 minutes" (share of resolved faults resolved within 10 minutes of
the report), grouped by category, room and technician (who acked, else who resolved)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KPI_MINUTES = 10


@dataclass(frozen=True)
class Record:
    category: str
    room: str
    tech: str  # open_id of who handled it
    created_at: datetime
    acked_at: datetime | None
    resolved_at: datetime | None
    ack_breached: bool = False
    resolve_breached: bool = False


@dataclass
class Figures:
    count: int = 0
    acked: int = 0
    resolved: int = 0
    mtta: float | None = None  # minutes
    mttr: float | None = None  # minutes
    breached: int = 0  # ack or resolve target missed
    within_kpi: int = 0

    @property
    def breach_rate(self) -> float | None:
        return self.breached / self.count if self.count else None

    @property
    def kpi_rate(self) -> float | None:
        return self.within_kpi / self.resolved if self.resolved else None


@dataclass
class Stats:
    total: Figures = field(default_factory=Figures)
    by_category: dict[str, Figures] = field(default_factory=dict)
    by_room: dict[str, Figures] = field(default_factory=dict)
    by_tech: dict[str, Figures] = field(default_factory=dict)


def _minutes(a: datetime, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds() / 60)


def figures(records: list[Record], kpi_minutes: int = KPI_MINUTES) -> Figures:
    f = Figures(count=len(records))
    ack = [_minutes(r.created_at, r.acked_at) for r in records if r.acked_at]
    res = [_minutes(r.created_at, r.resolved_at) for r in records if r.resolved_at]
    f.acked, f.resolved = len(ack), len(res)
    f.mtta = sum(ack) / len(ack) if ack else None
    f.mttr = sum(res) / len(res) if res else None
    f.breached = sum(1 for r in records if r.ack_breached or r.resolve_breached)
    f.within_kpi = sum(1 for m in res if m <= kpi_minutes)
    return f


def compute(records: list[Record], kpi_minutes: int = KPI_MINUTES) -> Stats:
    out = Stats(total=figures(records, kpi_minutes))
    for attr, target in (("category", out.by_category), ("room", out.by_room), ("tech", out.by_tech)):
        groups: dict[str, list[Record]] = {}
        for r in records:
            groups.setdefault(getattr(r, attr) or "", []).append(r)
        for key, rows in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            target[key] = figures(rows, kpi_minutes)
    return out


def fmt_minutes(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f}′"
    return f"{value / 60:.1f}h"


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"
