"""User-facing parse errors are one type (bot.errors.LocalizedError: an i18n key + values), and
the fault classifier's reasons are i18n texts: an English chat reads English."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot import uploads
from bot.compliance.extract import ExtractError, extract_lines
from bot.data.numbers import CellError
from bot.data.parse import ParseError, read_tables
from bot.errors import LocalizedError
from bot.faults.classify import classify
from bot.i18n import LOCALES
from bot.timeparse.parser import PastTimeError, TimeParseError, parse

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def caught(fn, *args) -> LocalizedError:
    with pytest.raises(LocalizedError) as err:
        fn(*args)
    return err.value


def test_every_kind_is_one_localized_error_with_both_texts():
    for kind in (TimeParseError, PastTimeError, ParseError, CellError, ExtractError, uploads.Refused):
        assert issubclass(kind, LocalizedError)
    errors = [
        caught(parse, "开会", NOW),                     # no time
        caught(parse, "25:00 开会", NOW),               # a malformed part, with examples
        caught(parse, "2026年1月3日 9点 开会", NOW),     # past
        caught(read_tables, "a,b\n1,2\n".encode(), "x.csv"),
        caught(extract_lines, b"", "s.txt"),
        uploads.too_slow("慢.xlsx"),
    ]
    for err in errors:
        assert err.key in LOCALES["zh_CN"] and err.key in LOCALES["en_US"], err.key
        assert CJK.search(err.text("zh_CN")) and err.text("zh_CN") == err.zh, err.key
        assert err.en != err.zh and (err.en[0].isascii() or err.en[0] == "“"), err.en  # English, naming the user's words
        assert str(err) in (f"{err.zh} / {err.en}", f"{err.zh}\n{err.en}")


def test_a_reason_inside_a_message_is_read_in_the_same_language():
    err = caught(parse, "25:00 开会", NOW)
    assert err.key == "time.err.with_examples" and isinstance(err.values["reason"], LocalizedError)
    assert "不是有效的时间" in err.zh and "可以这样写" in err.zh
    assert "is not a valid time" in err.en and "Try:" in err.en and "可以这样写" not in err.en


def test_classifier_reasons_in_both_languages():
    result = classify("@LiveOps 3号直播间推流断了 [image]")
    assert result.reasons[0].startswith("命中关键词「") and "附带图片证据" in result.reasons
    english = result.reasons_in("en_US")
    assert english[0].startswith("Matched keywords “") and "→ Stream" in english[0]
    assert "Comes with an image as evidence" in english and not any("命中" in r for r in english)
    gate = classify("@LiveOps 昨天推流断了一次").reasons_in("en_US")
    assert any(r.startswith("Mentions a past time") for r in gate)


async def test_an_english_chat_reads_english_reasons_and_errors(seam):
    await seam.say("ops", "/lang English")
    await seam.say("member", "@LiveOps 3号直播间推流断了")
    card = seam.text_of(seam.bot_messages()[-1])
    assert "Matched keywords" in card and "命中关键词" not in card
    await seam.say("member", "/remind 25:00 开会")
    reply = seam.text_of(seam.last_reply())
    assert "is not a valid time" in reply and "不是有效的时间" not in reply
