"""One reading of Chinese numerals, checked through every place that reads them."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.compliance.matcher import check
from bot.schedule.rooms import RoomRef, find_rooms, room_numbers
from bot.numerals import cn_int
from bot.timeparse.parser import cn_number, parse

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=SH)

# text → value: the one table every caller must agree with
TABLE = [
    ("0", 0), ("7", 7), ("15", 15), ("１５", 15), ("３", 3),
    ("零", 0), ("〇", 0), ("一", 1), ("二", 2), ("两", 2), ("兩", 2), ("三", 3), ("九", 9),
    ("十", 10), ("十一", 11), ("十五", 15), ("二十", 20), ("二十五", 25), ("兩十", 20), ("九十九", 99),
    ("零五", 5), ("〇五", 5), ("一〇", 10), ("二〇二六", 2026),
    ("一百", 100), ("一百零五", 105), ("一百一十", 110), ("一百五", 150), ("两百", 200),
    ("两千三", 2300), ("一千零一", 1001), ("一万", 10000), ("一万二千", 12000), ("十万", 100000),
]
NOT_NUMBERS = ["", " ", "abc", "十十", "百", "二三十", "一百百", "3号", "五个", "十-"]


@pytest.mark.parametrize("text, value", TABLE)
def test_cn_int(text: str, value: int) -> None:
    assert cn_int(text) == value


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_cn_int_refuses_what_is_not_a_number(text: str) -> None:
    assert cn_int(text) is None


@pytest.mark.parametrize("text, value", TABLE)
def test_time_language_reads_the_same(text: str, value: int) -> None:
    assert cn_number(text) == value
    if 0 < value <= 120 and len(text) <= 4:
        assert parse(f"{text}分钟后 开播", NOW).when == NOW + timedelta(minutes=value)


def test_time_language_refuses_garbage_with_value_error() -> None:
    with pytest.raises(ValueError):
        cn_number("十十")


ROOMS = [RoomRef(id=f"r{n}", name=f"{n}号直播间") for n in range(1, 100)]


@pytest.mark.parametrize("text, value", [(t, v) for t, v in TABLE if 0 < v < 100 and len(t) <= 3])
def test_rooms_read_the_same(text: str, value: int) -> None:
    assert [r.id for r in find_rooms(f"{text}号间黑屏了", ROOMS)] == [f"r{value}"]
    assert room_numbers(RoomRef(id="x", name="美妆间", aliases=(f"{text}号间",))) == {value}


@pytest.mark.parametrize("text, value", [(t, v) for t, v in TABLE if 0 < v < 1000])
def test_compliance_age_rule_reads_the_same(text: str, value: int) -> None:
    flagged = any(h.category == "未成年人" for h in check(f"我们主播才{text}岁").hits)
    assert flagged == (value < 16)
