"""No module in bot/ over 500 lines (the house rule), so each stays readable in one sitting."""
from __future__ import annotations

from pathlib import Path

LIMIT = 500
ROOT = Path(__file__).resolve().parent.parent
# Over the limit today and being changed by other work in flight; split, then remove from here.
PENDING: set[str] = set()


def test_no_module_in_bot_is_over_500_lines():
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in (ROOT / "bot").rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > LIMIT and name not in PENDING} == {}
    assert all(name in sizes for name in PENDING)  # a pending name that is gone must leave the list
