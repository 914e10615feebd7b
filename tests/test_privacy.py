"""Masking personal data (bot.privacy): the number is found however it is written, and the
mask never turns into card markdown."""
from __future__ import annotations

import pytest

from bot.privacy import mask_payload, mask_text


@pytest.mark.parametrize("text, expected", [
    ("电话13800138000请回", "电话138＊＊＊＊8000请回"),
    ("138.0013.8000", "138＊＊＊＊8000"),
    ("138 0013 8000", "138＊＊＊＊8000"),
    ("138-0013-8000", "138＊＊＊＊8000"),
    ("１３８００１３８０００", "138＊＊＊＊8000"),                      # full-width digits
    ("138\u200b0013\u200d8000", "138＊＊＊＊8000"),                  # zero-width characters between digits
    ("138\u30000013\u30008000", "138＊＊＊＊8000"),                  # ideographic spaces
    ("+86 138 0013 8000 找我", "138＊＊＊＊8000 找我"),
    ("身份证 11010119900307123X", "身份证 110101＊＊＊＊＊＊＊＊123X"),
    ("身份证 １１０１０１１９９００３０７１２３４", "身份证 110101＊＊＊＊＊＊＊＊1234"),
    ("卡号 6222 0200 1234 5678 901", "卡号 ＊＊＊＊ 8901"),
])
def test_numbers_are_found_however_written(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize("text", [
    "GMV 125113.60 元，场观 4万", "编号 3712045583012846601", "2026-11-20 19:00:00 到 23:00", "订单 12345678901234567890123",
    "138", "",
])
def test_other_numbers_are_left_alone(text):
    assert mask_text(text) == text


def test_the_mask_never_becomes_card_markdown():
    masked = mask_text("**联系人** 张三 13912345678，备用 13912345679")
    assert masked == "**联系人** 张三 139＊＊＊＊5678，备用 139＊＊＊＊5679"
    assert masked.count("*") == 4  # only the bold the author wrote: no "****" that lark_md reads as bold
    card = mask_payload({"elements": [{"tag": "markdown", "content": "139 1234 5678"}],
                         "behaviors": [{"value": {"phone": "13912345678"}}]})
    assert card["elements"][0]["content"] == "139＊＊＊＊5678"
    assert card["behaviors"][0]["value"]["phone"] == "13912345678"  # button values carry ids, not shown
