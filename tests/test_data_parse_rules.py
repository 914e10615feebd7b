"""bot.data.parse rules from issue 15: a unit in both header and cell is applied once, figures
that cannot be true are rejected with their row, long ids keep Excel's mangled form (so the
importer can tell), and bare times can be parsed on an assumed date that is flagged."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.test_data_parse import csv_bytes, one, sample, xlsx_bytes


def test_a_unit_in_both_header_and_cell_is_applied_once():
    data = csv_bytes("直播间,成交金额(万元),进入直播间人数(万人),千川消耗(万元)\n"
                     "1号直播间,12.51万,4万,0.5\n")
    row = one(data, "units.csv").rows[0]
    assert row["gmv"] == 125100 and row["uv"] == 40000 and row["ad_spend"] == 5000


@pytest.mark.parametrize("line, why", [
    ("1号直播间,100,4000,5000,5000,6000", "成交人数 5000 大于 进入直播间人数 4000"),
    ("1号直播间,100,40000,800,700,900", "成交人数 800 大于 成交订单数 700"),
    ("1号直播间,100,40000,800,900,850", "成交订单数 900 大于 成交件数 850"),
])
def test_figures_that_cannot_be_true_are_rejected_with_the_row(line, why):
    data = csv_bytes("直播间,成交金额,进入直播间人数,成交人数,成交订单数,成交件数\n" + line + "\n")
    t = one(data, "s.csv")
    assert t.rows == [] and t.rejected[0].row == 2 and t.rejected[0].label == "1号直播间"
    assert why in t.rejected[0].zh and "cannot be true" in t.rejected[0].en


def test_product_conversion_above_100_percent_is_rejected():
    t = one(csv_bytes("商品名称,成交人数,商品点击人数,商品曝光人数\nA,50,10,100\nB,5,10,100\nC,5,200,100\n"), "p.csv")
    assert [r["name"] for r in t.rows] == ["B"]
    assert [(r.row, r.label) for r in t.rejected] == [(2, "A"), (4, "C")]
    assert "商品点击人数 200 大于 商品曝光人数 100" in t.rejected[1].zh


def test_long_numeric_ids_keep_excels_mangled_form():
    from bot.data.numbers import mangled_id

    data = xlsx_bytes({"商品": [["商品名称", "商品编号", "成交金额"], ["A", 3712045583012846601, 1],
                                ["B", "3712045583012846602", 2], ["C", 123456, 3]]})
    ids = [r["product_id"] for r in one(data, "p.xlsx").rows]
    assert ids == ["3.71205E+18", "3712045583012846602", "123456"]
    assert [mangled_id(x) for x in ids] == [True, False, False] and mangled_id("3.61235E+12")


def test_bare_times_without_a_date_can_be_assumed_and_are_flagged():
    assumed = date(2000, 1, 3)
    t = one(sample("compass_trend.csv"), "compass_trend.csv", assume_date=assumed)
    assert t.date_from == "assumed" and t.rows[0]["minute"] == datetime(2000, 1, 3, 19, 0)
    named = one(sample("compass_trend.csv"), "趋势_2026-11-21.csv", assume_date=assumed)
    assert named.date_from == "file" and named.rows[0]["minute"] == datetime(2026, 11, 21, 19, 0)
    titled = one(sample("compass_summary.csv"), "compass_summary.csv", assume_date=assumed)
    assert titled.rows[0]["start"] == datetime(2026, 11, 20, 19) and titled.row_numbers == [3]
