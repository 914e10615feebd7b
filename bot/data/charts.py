"""VChart specs for Feishu's card chart element (plain data, no functions)."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.data.models import ProductFigures, TrendPoint


def _base(kind: str, title: str, values: list[dict], x: str, y: str, **extra) -> dict:
    return {"type": kind, "title": {"visible": True, "text": title},
            "data": [{"id": "data", "values": values}], "xField": x, "yField": y, **extra}


def online_line(trend: list[TrendPoint], tz: ZoneInfo, title: str, series: str) -> dict | None:
    """Online viewers over the stream (line)."""
    values = [{"time": p.minute.astimezone(tz).strftime("%H:%M"), "online": p.online}
              for p in trend if p.online is not None]
    if len(values) < 2:
        return None
    return _base("line", title, values, "time", "online", point={"visible": False},
                 line={"style": {"curveType": "monotone"}},
                 axes=[{"orient": "bottom", "label": {"autoHide": True}}, {"orient": "left"}],
                 tooltip={"visible": True}, legends={"visible": False}, seriesName=series)


def product_conversion_bar(products: list[ProductFigures], title: str, limit: int = 10) -> dict | None:
    """Click-to-deal conversion by product, for the products that sold most (horizontal bar, %,
    best seller on top), so long Chinese product names stay readable on the left axis."""
    values = []
    for p in products[:limit]:
        rate = p.values.get("click_deal_rate")
        if rate is None and p.values.get("click_uv") and p.values.get("buyers") is not None:
            rate = p.values["buyers"] / p.values["click_uv"]
        if rate is not None:
            name = p.name if len(p.name) <= 12 else p.name[:11] + "…"
            values.append({"product": name, "rate": round(rate * 100, 2)})
    if not values:
        return None
    return _base("bar", title, values, "rate", "product", direction="horizontal", label={"visible": True},
                 axes=[{"orient": "left", "type": "band", "label": {"visible": True}},
                       {"orient": "bottom", "type": "linear", "title": {"visible": True, "text": "%"}}])


def days_bar(days: list[tuple[date, dict]], title: str, metric: str, locale: str) -> dict | None:
    """A week or month by day: GMV (where sales may be seen) or view conversion in %."""
    values = []
    for day, v in days:
        if metric == "gmv" and v.get("gmv") is not None:  # 万元 (zh) or thousand yuan (en), as the title says
            unit, digits = (1_000, 1) if locale == "en_US" else (10_000, 2)
            values.append({"day": day.strftime("%m-%d"), "value": round(v["gmv"] / unit, digits)})
        elif metric == "view_conv" and v.get("uv") and v.get("buyers") is not None:
            values.append({"day": day.strftime("%m-%d"), "value": round(v["buyers"] / v["uv"] * 100, 2)})
    if not values:
        return None
    return _base("bar", title, values, "day", "value", label={"visible": True})
