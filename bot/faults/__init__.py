"""Equipment and platform faults reported in free text: classify and first steps (which room a
message talks about: bot.schedule.rooms)."""
from .classify import (
    CATEGORY_LABELS,
    DEFAULT_SEVERITY,
    Category,
    Classification,
    Severity,
    category_label,
    classify,
    raise_severity,
)
from .runbook import first_steps

__all__ = [
    "CATEGORY_LABELS",
    "DEFAULT_SEVERITY",
    "Category",
    "Classification",
    "Severity",
    "category_label",
    "classify",
    "first_steps",
    "raise_severity",
]
