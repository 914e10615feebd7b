"""bot.data.parse / bot.data.numbers: Compass-style exports read into tables (pure, no database).

The three sample files in tests/data come from tests/data/make_compass_samples.py (fixed seed):
one stream of "1号直播间" on 2026-11-20, 19:00-23:00.
"""
from __future__ import annotations

import codecs
from datetime import date, datetime, time, timedelta
import importlib.util
import io
from pathlib import Path

import openpyxl
import pytest

from bot.data.numbers import find_date, parse_when, split_unit
from bot.data.parse import (
    FIELDS, PRODUCTS, SUMMARY, TREND, ParseError, Rejected, Table, iter_rows, iter_trend_rows,
    normalise_header, parse_duration, parse_number, read_tables,
)

DATA = Path(__file__).parent / "data"
DAY = date(2026, 11, 20)


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def one(data: bytes, filename: str, **kw) -> Table:
    tables = read_tables(data, filename, **kw)
    assert len(tables) == 1, [t.kind for t in tables]
    return tables[0]


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.strip("\n").replace("\n", "\r\n").encode(encoding) + b"\r\n"


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- numbers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1.2万", 12000), ("3.5亿", 350_000_000), ("12.5万", 125000), ("1.1万", 11000), ("4万", 40000),
    ("13.33%", 0.1333), ("100%", 1.0), ("0.5%", 0.005), ("13.33％", 0.1333),
    ("¥1,234.5", 1234.5), ("￥1,234.5", 1234.5), ("¥ 1,234.50", 1234.5), ("1,234,567.89", 1234567.89),
    ("１２，３４５", 12345), ("１．５万", 15000), ("-12", -12), ("-¥12.5", -12.5), ("+7", 7),
    ("1,530件", 1530), ("800人", 800), ("1.2万元", 12000), ("10万+", 100000), ("2.6w", 26000),
    ("3k", 3000), ("0", 0), (" 42 ", 42), ("1e3", 1000),
    (12, 12), (12.5, 12.5),
])
def test_parse_number_formats(text, expected):
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", [None, "", "-", "--", "—", "——", " - ", "/", "N/A", "null", "nan",
                                  "#DIV/0!", float("nan")])
def test_parse_number_missing(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("text", ["abc", "1,2", "12元3", "1.2.3", "万", "%", "inf", "--5", True,
                                  object(), "1万万", "1,23"])
def test_parse_number_garbage_raises(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_worked_example_from_the_notes():
    """GMV 120,000; UV 40,000; PV 60,000; buyers 800; items 1,500; new fans 400; total watch
    4,000,000 s -> UV价值 3.00; GPM(PV) 2000, GPM(UV) 3000; 客单价 150; 件单价 80; 观看-成交 2.00%;
    关注率 1%; 人均观看时长 100 s -- the parsed values must reproduce it."""
    data = csv_bytes("""
直播间,成交金额（元）,进入直播间人数,观看人次,成交人数(人),成交件数,新增粉丝数,人均观看时长,关注率
1号直播间,"¥120,000.00",4万,6万,800,"1,500",400,1分40秒,1.00%
""")
    row = one(data, "example.csv").rows[0]
    assert (row["gmv"], row["uv"], row["pv"], row["buyers"], row["items"], row["new_fans"]) == (
        120000.0, 40000, 60000, 800, 1500, 400)
    assert isinstance(row["uv"], int) and isinstance(row["gmv"], float)
    assert row["gmv"] / row["uv"] == 3.00
    assert row["gmv"] * 1000 / row["pv"] == 2000
    assert row["gmv"] * 1000 / row["uv"] == 3000
    assert row["gmv"] / row["buyers"] == 150
    assert row["gmv"] / row["items"] == 80
    assert row["buyers"] / row["uv"] == 0.02
    assert row["follow_rate"] == 0.01 == row["new_fans"] / row["uv"]
    assert row["avg_dwell"] == 100 == 4_000_000 / row["uv"]


def test_parse_number_never_raises_anything_but_value_error():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
    @hypothesis.given(st.text(alphabet="0123456789,.%-+¥￥万亿wk元 ａ１（）", max_size=12))
    def check(text):
        try:
            value = parse_number(text)
        except ValueError:
            return
        assert value is None or isinstance(value, float)

    @hypothesis.settings(max_examples=200, deadline=None, derandomize=True)
    @hypothesis.given(st.integers(min_value=0, max_value=10**12))
    def grouped(n):
        assert parse_number(f"{n:,}") == n
        assert parse_number(f"¥{n:,}.50") == n + 0.5

    check()
    grouped()


# -- durations -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1分30秒", 90), ("90秒", 90), ("90s", 90), ("90", 90), (90, 90), ("00:01:30", 90), ("1:30", 90),
    ("1:02:03", 3723), ("2分钟", 120), ("1.5分钟", 90), ("1小时", 3600), ("4小时", 14400),
    ("1小时2分3秒", 3723), ("1h2m3s", 3723), ("2min", 120), ("1 分 30 秒", 90), ("１分３０秒", 90),
    ("1分30", 90), (time(0, 1, 30), 90), (timedelta(minutes=2), 120),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


def test_parse_duration_missing_garbage_and_unit():
    assert parse_duration("-") is None and parse_duration("") is None and parse_duration(None) is None
    for bad in ("abc", "1:75", "-5", "1分abc", "::"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert parse_duration("2", unit=60) == 120        # a header said (分钟)


# -- headers ---------------------------------------------------------------------------------
def test_normalise_header():
    assert normalise_header("成交人数（人）") == normalise_header("成交人数(人)") == "成交人数(人)"
    assert normalise_header("商品曝光-点击率（人数）") == "商品曝光-点击率(人数)"
    assert normalise_header("商品曝光—点击率【人数】") == "商品曝光-点击率(人数)"
    assert normalise_header(" GMV ") == "gmv" == normalise_header("ＧＭＶ")
    assert normalise_header("\ufeff成交 金额：") == "成交金额"
    assert split_unit("成交金额(万元)") == ("成交金额", "万元")
    assert split_unit("商品曝光-点击率(人数)") == ("商品曝光-点击率(人数)", None)   # a qualifier, not a unit


def test_times_and_dates():
    assert parse_when("19:00") == time(19, 0)
    assert parse_when("2026/11/20 19:00:00") == datetime(2026, 11, 20, 19, 0)
    assert parse_when("2026年11月20日 19时05分") == datetime(2026, 11, 20, 19, 5)
    assert parse_when("19:00-19:01") == time(19, 0)
    assert parse_when("2026-11-20T19:00:00+08:00") == datetime(2026, 11, 20, 19, 0)
    assert find_date("直播间数据 2026-11-20") == DAY == find_date("1号直播间_2026.11.20.csv")
    with pytest.raises(ValueError):
        parse_when("25:61")


# -- the three samples -----------------------------------------------------------------------
def test_samples_are_recognised():
    assert one(sample("compass_summary.csv"), "compass_summary.csv").kind == SUMMARY
    products = one(sample("compass_products.xlsx"), "compass_products.xlsx")
    assert (products.kind, products.sheet) == (PRODUCTS, "商品明细")
    assert one(sample("compass_trend.csv"), "compass_trend.csv", default_date=DAY).kind == TREND


def test_summary_sample_values_mapping_and_ignored():
    t = one(sample("compass_summary.csv"), "compass_summary.csv")
    assert t.title == "直播间数据 2026-11-20" and t.header_row == 2
    assert t.ignored == ["直播间曝光次数（新）"]
    assert t.columns["gmv"] == "成交金额（元）" and t.columns["peak_online"] == "最高在线人数（人）"
    assert t.columns["pv"] == "观看人次(次)" and "watch_deal_rate" not in t.columns
    assert t.total_rows == 1 and not t.rejected
    (row,) = t.rows
    assert set(row) == set(FIELDS[SUMMARY])
    assert row["date"] == DAY
    assert row["start"] == datetime(2026, 11, 20, 19) and row["end"] == datetime(2026, 11, 20, 23)
    assert row["room"] == "1号直播间" and row["duration"] == 14400
    assert row["gmv"] == 125113.6 and row["uv"] == 40000 and row["pv"] == 62000
    assert row["buyers"] == 800 and row["orders"] == 856 and row["items"] == 1530
    assert row["fans_club"] is None                     # "-" in the file
    assert row["watch_deal_rate"] is None               # no such column
    assert row["follow_rate"] == 0.0103 and row["interaction_rate"] == 0.0825
    assert row["avg_dwell"] == 112 and row["exposure_uv"] == 26000 and row["click_uv"] == 5460
    assert row["ad_spend"] == 18500 and row["refund_amount"] == 2984.6
    assert row["gpm"] == 2017.96 and row["uv_value"] == 3.13


def test_products_sample_rejects_the_bad_row():
    t = one(sample("compass_products.xlsx"), "compass_products.xlsx")
    assert t.ignored == ["讲解次数"]
    assert t.columns["exposure_click_rate"] == "商品曝光-点击率(人数)"
    assert t.columns["click_deal_rate"] == "商品点击-成交转化率（人数）"
    assert t.total_rows == 12 and len(t.rows) == 11
    assert t.rejected == [Rejected(13, "成交金额（元）「abc」不是数字", "成交金额（元） \"abc\" is not a number", "懒人沙发 单人")]
    first = t.rows[0]
    assert first["product_id"] == "3712045583012846601" and first["name"].startswith("【爆款】")
    assert first["gmv"] == 33830 and first["price"] == 199 and first["items"] == 170
    assert first["exposure_click_rate"] == pytest.approx(1820 / 18600, abs=1e-6)   # a % cell in Excel
    assert first["click_deal_rate"] == 0.0632                                       # text "6.32%"
    quiet = next(r for r in t.rows if r["name"] == "香薰蜡烛礼盒")
    assert quiet["gmv"] is None and quiet["buyers"] is None and quiet["exposure_uv"] == 4100


def test_trend_sample_agrees_with_summary_and_products():
    summary = one(sample("compass_summary.csv"), "compass_summary.csv").rows[0]
    trend = one(sample("compass_trend.csv"), "compass_trend.csv", default_date=DAY)
    products = one(sample("compass_products.xlsx"), "compass_products.xlsx")
    rows = trend.rows
    assert len(rows) == 240 and not trend.rejected
    assert rows[0]["minute"] == datetime(2026, 11, 20, 19, 0)
    assert rows[-1]["minute"] == datetime(2026, 11, 20, 22, 59)
    assert round(sum(r["gmv"] for r in rows), 2) == summary["gmv"]
    assert sum(r["orders"] for r in rows) == summary["orders"]
    assert sum(r["new_fans"] for r in rows) == summary["new_fans"]
    assert sum(r["entering"] for r in rows) == summary["pv"]
    assert max(r["online"] for r in rows) == summary["peak_online"]
    assert round(sum(r["online"] for r in rows) / len(rows)) == summary["avg_online"]
    sofa = 299.0 * 40                                   # the rejected product's GMV
    assert round(sum(r["gmv"] or 0 for r in products.rows) + sofa, 2) == summary["gmv"]
    assert sum(r["orders"] or 0 for r in products.rows) + 30 == summary["orders"]


def test_samples_match_their_generator(tmp_path):
    spec = importlib.util.spec_from_file_location("make_compass_samples", DATA / "make_compass_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for name in ("compass_summary.csv", "compass_products.xlsx", "compass_trend.csv"):
        assert (tmp_path / name).read_bytes() == sample(name), f"{name}: rerun make_compass_samples.py"


def test_trend_without_a_date_asks_for_one():
    with pytest.raises(ParseError) as err:
        read_tables(sample("compass_trend.csv"), "compass_trend.csv")
    assert "日期" in err.value.zh and "date" in err.value.en
    named = read_tables(sample("compass_trend.csv"), "趋势_2026-11-21.csv")   # a date in the file name
    assert named[0].rows[0]["minute"] == datetime(2026, 11, 21, 19, 0)


# -- rows ------------------------------------------------------------------------------------
def test_rejected_rows_with_reasons_rest_parses():
    data = csv_bytes("""
商品名称,成交金额,成交人数,商品曝光-点击率(人数),退款金额
A,100,5,10%,-20
B,abc,5,10%,0
C,100,-3,10%,0
D,100,5,130%,0
E,200,7,12.5,0
,300,1,1%,0
F,1万,oops,2%,0
""")
    t = one(data, "p.csv")
    assert [r["name"] for r in t.rows] == ["A", "E"]
    assert t.rows[0]["refund_amount"] == 20                 # exported as a negative refund
    assert t.rows[1]["exposure_click_rate"] == 0.125        # "12.5" without % in a rate column
    assert t.total_rows == 7
    reasons = {r.row: (r.zh, r.en) for r in t.rejected}
    assert reasons[3] == ("成交金额「abc」不是数字", "成交金额 \"abc\" is not a number")
    assert reasons[4] == ("成交人数「-3」不能为负数", "成交人数 \"-3\" cannot be negative")
    assert reasons[5] == ("商品曝光-点击率(人数)「130%」超过 100%", "商品曝光-点击率(人数) \"130%\" is above 100%")
    assert reasons[7] == ("没有商品名称或商品编号", "no product name or product id")
    assert reasons[8][0] == "成交人数「oops」不是数字"


def test_midnight_rollover():
    data = csv_bytes("""
时间,在线人数,进入人数
23:58,100,10
23:59,90,9
00:00,80,8
00:01,70,7
00:00,70,7
""")
    minutes = [r["minute"] for r in one(data, "t.csv", default_date=DAY).rows]
    nxt = DAY + timedelta(days=1)
    assert minutes[:4] == [datetime(2026, 11, 20, 23, 58), datetime(2026, 11, 20, 23, 59),
                           datetime.combine(nxt, time(0, 0)), datetime.combine(nxt, time(0, 1))]
    assert minutes[4] == datetime.combine(nxt, time(0, 0))   # a small step back is not a new day
    night = csv_bytes("直播间,开播时间,下播时间,成交金额\n1号直播间,22:00,02:00,100\n")
    row = one(night, "s.csv", default_date=DAY).rows[0]
    assert row["start"] == datetime(2026, 11, 20, 22) and row["end"] == datetime(2026, 11, 21, 2)
    assert row["date"] == DAY


def test_gbk_csv_and_title_date():
    text = """
罗盘直播间数据 2026年11月20日
直播间,开播时间,下播时间,成交金额（元）,进入直播间人数,人均观看时长
1号直播间,19:00,23:00,"￥125,113.60",4万,1分52秒
"""
    data = csv_bytes(text, "gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    t = one(data, "gbk.csv")
    assert t.title == "罗盘直播间数据 2026年11月20日" and t.header_row == 2
    row = t.rows[0]
    assert row["start"] == datetime(2026, 11, 20, 19) and row["end"] == datetime(2026, 11, 20, 23)
    assert row["gmv"] == 125113.6 and row["uv"] == 40000 and row["avg_dwell"] == 112
    # the caller's default_date wins over the title's date
    assert one(data, "gbk.csv", default_date=date(2026, 12, 1)).rows[0]["date"] == date(2026, 12, 1)


def test_tab_separated_utf16_and_bom():
    text = "时间\t在线人数\t进入人数\t成交金额\n19:00\t1,200\t300\t¥1,234.5\n19:01\t1.2万\t400\t-\n19:02\t5\t6\t7\n"
    for data in (codecs.BOM_UTF16_LE + text.encode("utf-16-le"), codecs.BOM_UTF8 + text.encode()):
        t = one(data, "trend.txt", default_date=DAY)
        assert t.kind == TREND
        assert [(r["online"], r["gmv"]) for r in t.rows] == [(1200, 1234.5), (12000, None), (5, 7.0)]


def test_units_in_headers_scale_values():
    data = csv_bytes("直播间,成交金额(万元),人均观看时长(分钟),互动率(%),进入直播间人数(万人)\n"
                     "1号直播间,12.5,2,8.25,4\n")
    t = one(data, "units.csv")
    row = t.rows[0]
    assert row["gmv"] == 125000 and row["avg_dwell"] == 120 and row["interaction_rate"] == 0.0825
    assert row["uv"] == 40000
    fen = one(csv_bytes("商品名称,成交金额(分),单价(元)\nA,12345,9.9\n"), "fen.csv").rows[0]
    assert fen["gmv"] == 123.45 and fen["price"] == 9.9
    assert t.units == {"gmv": "万元", "avg_dwell": "分钟", "interaction_rate": "%", "uv": "万人"}


def test_missing_columns_and_synonyms():
    data = csv_bytes("账号名称,GMV,场观\n1号直播间,1000,500\n2号直播间,2000,800\n")
    t = one(data, "two.csv")
    assert t.kind == SUMMARY and t.columns == {"room": "账号名称", "gmv": "GMV", "uv": "场观"}
    assert [(r["room"], r["gmv"], r["uv"], r["buyers"]) for r in t.rows] == [
        ("1号直播间", 1000, 500, None), ("2号直播间", 2000, 800, None)]
    # two headers for one field: the Compass name wins, the other is reported as ignored
    both = one(csv_bytes("销售额,成交金额,观看人数\n1,2,3\n"), "both.csv")
    assert both.columns["gmv"] == "成交金额" and both.ignored == ["销售额"]


def test_totals_row_and_blank_rows_skipped():
    data = csv_bytes("""
商品名称,成交金额
A,100

B,200
合计,300
,总计,500
,
""")
    t = one(data, "p.csv")
    assert [r["name"] for r in t.rows] == ["A", "B"] and t.total_rows == 4
    assert [s.row for s in t.skipped] == [5, 6] and "合计" in t.skipped[0].zh


def test_summary_and_products_in_one_csv():
    data = csv_bytes("""
直播间,成交金额,进入直播间人数
1号直播间,300,100

商品名称,成交金额,成交件数
A,100,1
B,200,2
""")
    summary, products = read_tables(data, "both.csv")
    assert (summary.kind, products.kind) == (SUMMARY, PRODUCTS)
    assert summary.rows[0]["gmv"] == 300 and [r["items"] for r in products.rows] == [1, 2]
    assert products.header_row == 4


def test_trend_needs_many_rows_when_headers_also_fit_a_summary():
    head = "时间,在线人数,成交金额,进入直播间人数\n"
    few = one(csv_bytes(head + "19:00,10,100,50\n19:01,12,0,9\n"), "x.csv", default_date=DAY)
    many = one(csv_bytes(head + "19:00,10,100,50\n19:01,12,0,9\n19:02,8,5,3\n"), "x.csv", default_date=DAY)
    assert (few.kind, len(few.rows), many.kind, len(many.rows)) == (SUMMARY, 2, TREND, 3)
    assert many.columns["entering"] == "进入直播间人数" and few.columns["uv"] == "进入直播间人数"


def test_time_only_summary_without_date_is_a_parse_error():
    with pytest.raises(ParseError) as err:
        read_tables(csv_bytes("开播时间,成交金额\n19:00,100\n"), "s.csv")
    assert "开播时间" in err.value.zh and "no date" in err.value.en


# -- xlsx ------------------------------------------------------------------------------------
def test_xlsx_two_sheets_with_excel_dates():
    data = xlsx_bytes({
        "汇总": [["直播间数据"], ["日期", "直播间", "开播时间", "成交金额", "进入直播间人数", "人均观看时长"],
                 [date(2026, 11, 20), "1号直播间", time(19, 0), 1234.5, 40000, time(0, 1, 52)]],
        "分钟趋势": [["时间", "在线人数", "进入人数"]]
                   + [[datetime(2026, 11, 20, 19, m), 100 + m, 10] for m in range(5)]
                   + [[time(19, 5), 99, 9]],
        "说明": [["本表由罗盘导出"]],
    })
    summary, trend = read_tables(data, "room.xlsx")
    assert (summary.sheet, summary.kind, trend.sheet, trend.kind) == ("汇总", SUMMARY, "分钟趋势", TREND)
    row = summary.rows[0]
    assert row["date"] == DAY and row["start"] == datetime(2026, 11, 20, 19) and row["avg_dwell"] == 112
    assert row["uv"] == 40000 and row["gmv"] == 1234.5 and summary.header_row == 2
    assert [r["minute"].minute for r in trend.rows] == [0, 1, 2, 3, 4, 5]
    assert trend.rows[-1]["minute"] == datetime(2026, 11, 20, 19, 5)   # a bare time follows the dates


def test_xlsx_rejected_row_number_is_the_excel_row():
    data = xlsx_bytes({"Sheet1": [[], ["商品名称", "成交金额"], ["A", 1], [], ["B", "x"]]})
    t = one(data, "p.xlsx")
    assert t.header_row == 2 and t.rejected[0].row == 5


# -- errors ----------------------------------------------------------------------------------
def test_garbage_file_is_a_bilingual_parse_error():
    with pytest.raises(ParseError) as err:
        read_tables(csv_bytes("hello,world,备注\n1,2,3\n"), "notes.csv")
    e = err.value
    assert "hello、world、备注" in e.zh and "成交金额" in e.zh and "商品名称" in e.zh
    assert "No Compass data table" in e.en and "hello, world, 备注" in e.en
    assert e.message("en_US") == e.en and e.message() == e.zh and str(e) == f"{e.zh} / {e.en}"
    assert isinstance(e, ValueError)


@pytest.mark.parametrize("data, filename, zh, en", [
    (b"", "empty.csv", "是空的", "is empty"),
    (b"  \r\n ", "blank.csv", "是空的", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "不是文本表格", "not a text table"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", ".xls", ".xls"),
    (b"not a zip at all", "broken.xlsx", "无法打开 Excel", "Cannot open the Excel"),
    (b"PK\x03\x04broken", "broken.xlsx", "无法打开 Excel", "Cannot open the Excel"),
    (b"%PDF-1.4", "report.pdf", "不支持", "Unsupported"),
])
def test_unreadable_files(data, filename, zh, en):
    with pytest.raises(ParseError) as err:
        read_tables(data, filename)
    assert zh in err.value.zh and en in err.value.en


def test_header_only_file_gives_an_empty_table():
    t = one(csv_bytes("商品名称,成交金额\n"), "p.csv")
    assert t.kind == PRODUCTS and t.rows == [] and t.total_rows == 0


def test_limits():
    rows = "\n".join(f"19:{m % 60:02d},{m},1" for m in range(30))
    data = csv_bytes("时间,在线人数,进入人数\n" + rows)
    assert len(one(data, "t.csv", default_date=DAY, max_rows=30).rows) == 30
    with pytest.raises(ParseError) as err:
        read_tables(data, "t.csv", default_date=DAY, max_rows=29)
    assert "29" in err.value.zh and "more than 29 rows" in err.value.en
    with pytest.raises(ParseError):    # rows of "-" are not data rows, but are not free either
        read_tables(csv_bytes("商品名称,成交金额\n" + "-,-\n" * 1100), "dashes.csv", max_rows=1)
    with pytest.raises(ParseError) as err:
        read_tables(b"a" * (20 * 1024 * 1024 + 1), "huge.csv")
    assert "20 MB" in err.value.zh


def test_streaming_matches_read_tables():
    data = sample("compass_trend.csv")
    streamed = list(iter_trend_rows(data, "compass_trend.csv", default_date=DAY))
    assert streamed == one(data, "compass_trend.csv", default_date=DAY).rows
    seen = list(iter_rows(sample("compass_products.xlsx"), "compass_products.xlsx"))
    table = seen[-1][0]
    assert len(seen) == 11 and table.rows == [] and table.total_rows == 12 and len(table.rejected) == 1


def test_rejected_row_line_names_the_product():
    from bot.data import importer

    t = one(sample("compass_products.xlsx"), "compass_products.xlsx")
    zh, = importer._rejected(t, "zh_CN")
    en, = importer._rejected(t, "en_US")
    assert "第 13 行（懒人沙发 单人）：成交金额（元）「abc」不是数字" in zh
    assert "row 13 (懒人沙发 单人): 成交金额（元） \"abc\" is not a number" in en

