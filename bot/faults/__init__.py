"""Equipment and platform faults reported in free text: classify, find the room, first steps."""
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
from .rooms import RoomRef, find_rooms
from .runbook import first_steps

__all__ = [
    "CATEGORY_LABELS",
    "DEFAULT_SEVERITY",
    "Category",
    "Classification",
    "RoomRef",
    "Severity",
    "category_label",
    "classify",
    "find_rooms",
    "first_steps",
    "raise_severity",
]
