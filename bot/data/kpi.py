"""KPI formulas over a stream's figures (or the sums of several streams), with targets.

Every figure says how it was computed; a missing input or a zero denominator gives no value
and a reason ("—：缺少 成交人数", "—：场观为 0"), never a crash or a made-up number.

Formulas (bot README, "KPI formulas"; practitioners differ, so the choice is stated):
  UV价值 = 成交金额 ÷ 场观人数(UV)        GPM = 成交金额 × 1000 ÷ 场观人次(PV) (and ÷ UV, labelled)
  客单价 = 成交金额 ÷ 成交人数              件单价 = 成交金额 ÷ 成交件数
  观看-成交转化率 = 成交人数 ÷ 进入人数(UV)  点击-成交转化率 = 成交人数 ÷ 商品点击人数
  商品曝光-点击率 = 商品点击人数 ÷ 商品曝光人数   关注率 = 新增粉丝 ÷ UV
  人均观看时长 = 总观看秒数 ÷ UV (or the export's own 人均观看时长 for one stream)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

MONEY, COUNT, RATE, SECONDS, RATIO = "money", "count", "rate", "seconds", "ratio"

# metric → (kind, higher is better, default target or None). Targets live in kpi_targets.
METRICS: dict[str, tuple[str, bool, float | None]] = {
    "gmv": (MONEY, True, None),            # target: the stream's 目标GMV, else a configured one
    "uv": (COUNT, True, None),
    "pv": (COUNT, True, None),
    "uv_value": (MONEY, True, None),
    "gpm_pv": (MONEY, True, None),
    "gpm_uv": (MONEY, True, None),
    "aov": (MONEY, True, None),
    "item_price": (MONEY, True, None),
    "view_conv": (RATE, True, 0.05),        # the seed's UV conversion ≥ 5%
    "click_conv": (RATE, True, None),
    "exposure_click": (RATE, True, None),
    "follow_rate": (RATE, True, None),
    "avg_dwell": (SECONDS, True, 90.0),     # ≥ 90 s
    "new_fans": (COUNT, True, None),
    "new_fans_month": (COUNT, True, 5000.0),  # ≥ 5000 a month
    "peak_online": (COUNT, True, None),
    "buyers": (COUNT, True, None),
    "orders": (COUNT, True, None),
    "ad_spend": (MONEY, False, None),
    "roi": (RATIO, True, None),             # GMV ÷ 千川消耗
    # the operator KPIs the bot records itself
    "schedule_accuracy": (RATE, True, 0.95),
    "script_on_time": (RATE, True, 1.0),
    "fault_within_10": (RATE, True, 1.0),
    "review_tasks_on_time": (RATE, True, 0.9),
    "newbie_growth": (RATE, True, 0.30),
}
SALES = frozenset({"gmv", "uv_value", "gpm_pv", "gpm_uv", "aov", "item_price", "ad_spend", "roi"})
# words people type for a metric (targets, manual entry)
ALIASES = {
    "gmv": "gmv", "成交金额": "gmv", "销售额": "gmv", "目标gmv": "gmv",
    "uv": "uv", "场观": "uv", "观看人数": "uv", "进入人数": "uv", "pv": "pv", "观看人次": "pv",
    "uv价值": "uv_value", "gpm": "gpm_pv", "客单价": "aov", "件单价": "item_price",
    "转化率": "view_conv", "uv转化率": "view_conv", "观看-成交转化率": "view_conv", "观看成交转化率": "view_conv",
    "点击-成交转化率": "click_conv", "点击成交转化率": "click_conv", "点击转化率": "click_conv",
    "曝光-点击率": "exposure_click", "曝光点击率": "exposure_click", "关注率": "follow_rate",
    "停留": "avg_dwell", "停留时长": "avg_dwell", "人均观看时长": "avg_dwell", "人均停留": "avg_dwell",
    "涨粉": "new_fans", "新增粉丝": "new_fans", "新增粉丝数": "new_fans", "月涨粉": "new_fans_month",
    "排期准确率": "schedule_accuracy", "脚本审核及时率": "script_on_time", "故障10分钟处理率": "fault_within_10",
    "复盘任务按时率": "review_tasks_on_time", "新人转化增长": "newbie_growth", "roi": "roi",
}


@dataclass(frozen=True)
class Figure:
    metric: str
    value: float | None
    why: str = ""            # text key when value is None: kpi.why.missing / kpi.why.zero
    why_args: tuple = ()     # the missing inputs / the zero denominator
    target: float | None = None
    note: str = ""           # how it was computed, shown on request

    @property
    def kind(self) -> str:
        return METRICS[self.metric][0]

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        higher = METRICS[self.metric][1]
        return self.value >= self.target if higher else self.value <= self.target

    @property
    def achievement(self) -> float | None:
        if self.value is None or not self.target:
            return None
        return self.value / self.target


def ratio(metric: str, values: dict, num: str, den: str, *, scale: float = 1.0,
          target: float | None = None) -> Figure:
    missing = tuple(k for k in (num, den) if values.get(k) is None)
    if missing:
        return Figure(metric, None, "missing", missing, target)
    if not values[den]:
        return Figure(metric, None, "zero", (den,), target)
    return Figure(metric, values[num] * scale / values[den], target=target)


def plain(metric: str, values: dict, key: str | None = None, target: float | None = None) -> Figure:
    key = key or metric
    if values.get(key) is None:
        return Figure(metric, None, "missing", (key,), target)
    return Figure(metric, float(values[key]), target=target)


def dwell(values: dict, target: float | None) -> Figure:
    if values.get("avg_dwell") is not None:
        return Figure("avg_dwell", float(values["avg_dwell"]), target=target)
    return ratio("avg_dwell", values, "watch_seconds", "uv", target=target)


def figures(values: dict, targets: dict[str, float]) -> dict[str, Figure]:
    """All per-stream (or summed) figures from ``values`` (canonical fields, see
    bot.data.parse) and the effective ``targets`` (metric → value)."""
    tg = targets.get
    out = [
        plain("gmv", values, target=tg("gmv")),
        plain("uv", values), plain("pv", values), plain("buyers", values), plain("orders", values),
        plain("peak_online", values), plain("new_fans", values),
        ratio("uv_value", values, "gmv", "uv", target=tg("uv_value")),
        ratio("gpm_pv", values, "gmv", "pv", scale=1000, target=tg("gpm_pv")),
        ratio("gpm_uv", values, "gmv", "uv", scale=1000, target=tg("gpm_uv")),
        ratio("aov", values, "gmv", "buyers", target=tg("aov")),
        ratio("item_price", values, "gmv", "items"),
        ratio("view_conv", values, "buyers", "uv", target=tg("view_conv")),
        ratio("click_conv", values, "buyers", "click_uv", target=tg("click_conv")),
        ratio("exposure_click", values, "click_uv", "exposure_uv", target=tg("exposure_click")),
        ratio("follow_rate", values, "new_fans", "uv", target=tg("follow_rate")),
        dwell(values, tg("avg_dwell")),
        ratio("roi", values, "gmv", "ad_spend", target=tg("roi")),
    ]
    return {f.metric: f for f in out}


SUMMED = ("gmv", "uv", "pv", "buyers", "orders", "items", "new_fans", "click_uv", "exposure_uv",
          "ad_spend", "refund_amount", "fans_club")


def total(rows: Iterable[dict]) -> dict:
    """Sums of several streams' values: a field is summed over the streams that have it and
    is missing when none has it; watch seconds come from each stream's dwell × UV, so the
    average dwell of the sum is weighted by viewers (only over streams that have both)."""
    out: dict = {}
    watch, watch_uv = 0.0, 0.0
    peak = None
    for v in rows:
        for key in SUMMED:
            if v.get(key) is not None:
                out[key] = out.get(key, 0) + v[key]
        if v.get("avg_dwell") is not None and v.get("uv"):
            watch += v["avg_dwell"] * v["uv"]
            watch_uv += v["uv"]
        if v.get("peak_online") is not None:
            peak = max(peak or 0, v["peak_online"])
    if watch_uv:
        out["avg_dwell"] = watch / watch_uv
    if peak is not None:
        out["peak_online"] = peak
    return out


def growth(first: float | None, last: float | None) -> Figure:
    """Newbie streamer conversion growth: last ÷ first − 1 (target +30% in 3 months)."""
    target = METRICS["newbie_growth"][2]
    if first is None or last is None:
        return Figure("newbie_growth", None, "missing", ("view_conv",), target)
    if not first:
        return Figure("newbie_growth", None, "zero", ("view_conv",), target)
    return Figure("newbie_growth", last / first - 1, target=target)


def share(metric: str, good: int, total_: int, target: float | None) -> Figure:
    if not total_:
        return Figure(metric, None, "none", (), target)
    return Figure(metric, good / total_, target=target)
