"""Generate the Compass-style sample exports used by tests/test_data_parse.py (fixed seed).

Run:  .venv/bin/python tests/data/make_compass_samples.py      (rewrites the three files)

One stream of "1号直播间" on 2026-11-20, 19:00–23:00 (240 minutes):
  compass_summary.csv   room summary; a title line above the header, full-width brackets in
                        some headers, "4万"-style values, a "-" cell, an unknown column
  compass_products.xlsx 12 products on sheet "商品明细" (title in row 1, header in row 2); one
                        product without sales ("-" cells), an unknown column "讲解次数", one bad
                        row (成交金额 "abc", Excel row 13) that the parser must reject
  compass_trend.csv     per-minute trend "19:00".."22:59" (no date in the file)

The figures agree with each other: summary GMV = sum of product GMV = sum of trend GMV
(125,113.60); summary orders = sum of product orders = sum of trend orders (856); peak/average
online come from the trend; PV = sum of trend 进入人数; 人均观看时长 = average online × duration ÷ UV.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
import random
import re
import sys
import zipfile

HERE = Path(__file__).resolve().parent
SEED = 20261120
MINUTES = 240
UV, PV = 40_000, 62_000
BUYERS = 800
NEW_FANS = 412

# name, product id, price, items, orders, buyers, exposure, clicks, refund buyers, 讲解次数
PRODUCTS = [
    ("【爆款】加厚珊瑚绒四件套 1.8m床", "3712045583012846601", 199.00, 170, 118, 115, 18600, 1820, 6, 5),
    ("无痕挂钩 20只装", "3712045583012846602", 9.90, 258, 142, 136, 15200, 1460, 3, 3),
    ("日式陶瓷碗碟套装 16件", "3712045583012846603", 129.00, 96, 70, 69, 9800, 690, 2, 2),
    ("泰国乳胶枕 一对装", "3712045583012846604", 159.00, 142, 96, 93, 12400, 1130, 4, 4),
    ("厨房多功能置物架", "3712045583012846605", 69.90, 110, 64, 62, 8800, 610, 1, 2),
    ("加绒保暖拖鞋 男女款", "3712045583012846606", 29.90, 210, 88, 85, 11000, 820, 5, 3),
    ("全棉浴巾 两条装", "3712045583012846607", 49.90, 150, 72, 70, 9100, 640, 2, 2),
    ("电热水壶 1.7L 304不锈钢", "3712045583012846608", 89.00, 78, 60, 59, 7600, 480, 1, 2),
    ("大号收纳箱 三只装", "3712045583012846609", 59.90, 120, 50, 49, 8200, 520, 2, 2),
    ("香薰蜡烛礼盒", "3712045583012846610", 79.00, 0, 0, 0, 4100, 95, 0, 1),     # no sales: "-"
    ("懒人沙发 单人", "3712045583012846611", 299.00, 40, 30, 30, 6900, 410, 1, 1),  # GMV "abc"
    ("抽纸 24包整箱", "3712045583012846612", 39.90, 156, 66, 64, 9700, 590, 1, 2),
]
BAD_PRODUCT = "懒人沙发 单人"
NO_SALES = "香薰蜡烛礼盒"
FIXED_ZIP_TIME = (2026, 11, 20, 23, 30, 0)


def product_gmv_cents() -> list[int]:
    return [round(price * 100) * items for _, _, price, items, *_ in PRODUCTS]


def online_curve(rng: random.Random) -> list[int]:
    """Online viewers per minute: fast ramp, hero-product peak near 20:00, lucky-bag bumps
    every 30 minutes, slow decay, drop in the last minutes."""
    shape = []
    for t in range(MINUTES):
        ramp = 1 - math.exp(-t / 4)
        decay = 0.55 + 0.45 * math.exp(-t / 150)
        hero = 0.9 * math.exp(-((t - 62) / 9) ** 2)
        bag = 0.25 * math.exp(-((t % 30) - 2) ** 2 / 6) if t >= 28 else 0.0
        tail = 1 - 0.6 * max(0, t - 228) / 11
        shape.append(ramp * (decay + hero + bag) * tail * (1 + rng.uniform(-0.04, 0.04)))
    top = max(shape)
    target_peak, target_mean = 786, 311
    # o = a*s + c with max 786 and mean 311
    mean = sum(shape) / MINUTES
    a = (target_peak - target_mean) / (top - mean)
    c = target_peak - a * top
    return [max(8, round(a * s + c)) for s in shape]


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split an integer total in proportion to weights (largest remainder, exact sum)."""
    wsum = sum(weights)
    raw = [total * w / wsum for w in weights]
    out = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def trend_rows(rng: random.Random) -> list[dict]:
    online = online_curve(rng)
    prev = [0] + online[:-1]
    rises = [max(o - p, 0) for o, p in zip(online, prev)]
    churn = allocate(PV - sum(rises), [float(p) for p in prev])
    entering = [r + c for r, c in zip(rises, churn)]
    leaving = [p + e - o for p, e, o in zip(prev, entering, online)]
    hero = [1 + 2.5 * math.exp(-((t - 62) / 12) ** 2) for t in range(MINUTES)]
    orders = allocate(sum(p[4] for p in PRODUCTS),
                      [o * h * rng.uniform(0.3, 1.7) for o, h in zip(online, hero)])
    gmv = allocate(sum(product_gmv_cents()), [n * rng.uniform(0.6, 1.6) for n in orders])
    fans = allocate(NEW_FANS, [o * rng.uniform(0.2, 1.8) for o in online])
    return [{"minute": f"{19 + t // 60:02d}:{t % 60:02d}", "online": online[t], "entering": entering[t],
             "leaving": leaving[t], "gmv_cents": gmv[t], "orders": orders[t], "new_fans": fans[t]}
            for t in range(MINUTES)]


def wan(n: int) -> str:
    """40000 -> "4万", 62000 -> "6.2万" (the way Compass shortens big counts)."""
    return f"{n / 10000:g}万"


def money(cents: int) -> str:
    return f"¥{cents / 100:,.2f}"


def summary_csv(trend: list[dict]) -> str:
    gmv = sum(product_gmv_cents())
    online = [r["online"] for r in trend]
    avg_online = round(sum(online) / MINUTES)
    dwell = round(sum(online) * 60 / UV)
    refund = sum(round(p[2] * 100) * p[8] for p in PRODUCTS)
    exposure, clicks = 26_000, 5_460
    header = ["直播间", "直播标题", "开播时间", "下播时间", "直播时长", "成交金额（元）", "进入直播间人数",
              "观看人次(次)", "最高在线人数（人）", "平均在线人数", "人均观看时长", "成交人数（人）",
              "成交订单数", "成交件数", "新增粉丝数", "新加团人数", "互动率", "关注率", "商品曝光人数",
              "商品点击人数", "千川消耗", "退款金额", "GPM", "UV价值", "直播间曝光次数（新）"]
    row = ["1号直播间", "双12预热 家居好物专场", "2026/11/20 19:00:00", "2026/11/20 23:00:00", "4小时",
           money(gmv), wan(UV), wan(PV), str(max(online)), str(avg_online), f"{dwell // 60}分{dwell % 60}秒",
           str(BUYERS), str(sum(p[4] for p in PRODUCTS)), f"{sum(p[3] for p in PRODUCTS):,}", str(NEW_FANS),
           "-", "8.25%", f"{NEW_FANS / UV:.2%}", wan(exposure), f"{clicks:,}", "¥18,500.00", money(refund),
           f"{gmv / 100 * 1000 / PV:.2f}", f"{gmv / 100 / UV:.2f}", "18.6万"]
    buf = io.StringIO()
    buf.write("直播间数据 2026-11-20\n")
    csv.writer(buf, lineterminator="\n").writerows([header, row])
    return buf.getvalue()


def trend_csv(trend: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["时间", "在线人数", "进入人数", "离开人数", "成交金额(元)", "成交订单数", "新增粉丝数"])
    for r in trend:
        w.writerow([r["minute"], r["online"], r["entering"], r["leaving"], f"{r['gmv_cents'] / 100:.2f}",
                    r["orders"], r["new_fans"]])
    return buf.getvalue()


def products_xlsx() -> bytes:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "商品明细"
    ws.append(["商品数据 2026-11-20 19:00~23:00"])
    ws.append(["商品名称", "商品编号", "商品价格", "成交金额（元）", "成交件数", "成交人数", "成交订单数",
               "商品曝光人数", "商品点击人数", "商品曝光-点击率(人数)", "商品点击-成交转化率（人数）",
               "退款人数", "退款金额", "讲解次数"])
    for (name, pid, price, items, orders, buyers, expo, clicks, refunds, talks), cents in zip(
            PRODUCTS, product_gmv_cents()):
        if name == NO_SALES:
            ws.append([name, pid, price, "-", "-", "-", "-", expo, clicks, clicks / expo,
                       "-", "-", "-", talks])
        else:
            gmv = "abc" if name == BAD_PRODUCT else cents / 100
            ws.append([name, pid, price, gmv, items, buyers, orders, expo, clicks, clicks / expo,
                       f"{buyers / clicks:.2%}", refunds, round(price * refunds, 2), talks])
        ws.cell(ws.max_row, 10).number_format = "0.00%"
    wb.properties.creator = "make_compass_samples.py"
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Same bytes on every run: fixed entry times and document timestamps."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2026-11-20T15:30:00Z", body)
            dst.writestr(zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def main(out_dir: Path = HERE) -> None:
    rng = random.Random(SEED)
    trend = trend_rows(rng)
    (out_dir / "compass_summary.csv").write_text(summary_csv(trend), encoding="utf-8")
    (out_dir / "compass_trend.csv").write_text(trend_csv(trend), encoding="utf-8")
    (out_dir / "compass_products.xlsx").write_bytes(products_xlsx())
    print(f"wrote compass_summary.csv, compass_products.xlsx, compass_trend.csv to {out_dir}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
