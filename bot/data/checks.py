"""Figures that cannot be true, refused with the row named (pure functions).

    problems(row)  -> [("buyers", "uv")]     # 成交人数 above 进入直播间人数
    first_problem(row, names) -> CellError   # worded with the column headers as written

Each rule is "small ≤ large" between two counts of the same row: a person who bought was a
viewer, clicked a product and placed an order; an order has at least one item. Rates above 100%
and negative amounts are refused where each cell is read (bot.data.numbers.converter).
"""
from __future__ import annotations

from typing import Callable, Mapping

from bot.data.numbers import CellError

# (smaller, larger): smaller may never exceed larger in one row
RULES: tuple[tuple[str, str], ...] = (
    ("buyers", "uv"),            # 成交人数 ≤ 进入人数 (观看-成交转化率 ≤ 100%)
    ("buyers", "click_uv"),      # 成交人数 ≤ 商品点击人数 (点击-成交转化率 ≤ 100%)
    ("click_uv", "exposure_uv"),  # 点击人数 ≤ 曝光人数 (曝光-点击率 ≤ 100%)
    ("buyers", "orders"),        # every buyer placed an order
    ("orders", "items"),         # every order has an item
    ("uv", "pv"),                # people ≤ visits
    ("peak_online", "uv"),       # viewers at once ≤ viewers in all
    ("avg_online", "peak_online"),
    ("new_fans", "uv"),          # 关注率 ≤ 100%
    ("refund_buyers", "buyers"),
)


def problems(row: Mapping[str, object]) -> list[tuple[str, str]]:
    out = []
    for small, large in RULES:
        a, b = row.get(small), row.get(large)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > b:
            out.append((small, large))
    return out


def first_problem(row: Mapping[str, object], name: Callable[[str], str]) -> CellError | None:
    """The first impossible pair as a bilingual error, ``name(field)`` naming each column."""
    found = problems(row)
    if not found:
        return None
    small, large = found[0]
    a, b = row[small], row[large]
    return CellError("data.err.impossible", small=name(small), a=_n(a), large=name(large), b=_n(b))


def _n(x: object) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)
