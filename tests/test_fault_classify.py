"""Fault classification: targets on the labelled set plus focused unit tests."""
from __future__ import annotations

import pytest

from bot.faults import (
    DEFAULT_SEVERITY,
    Category,
    Severity,
    classify,
    first_steps,
    raise_severity,
)
from bot.schedule.rooms import RoomRef, find_rooms
from tests.eval_faults import ROOMS, evaluate, load_rows

# ------------------------------------------------------------------ labelled set


@pytest.fixture(scope="module")
def rows():
    return load_rows()


def test_labelled_set_shape(rows):
    assert len(rows) >= 180
    valid = {c.value for c in Category}
    room_ids = {r.id for r in ROOMS}
    for row in rows:
        assert row.text.strip()
        assert (row.category in valid) if row.is_fault else row.category == ""
        assert set(row.rooms) <= room_ids, row
    for cat in Category:
        assert sum(r.category == cat.value for r in rows) >= 12, cat
    assert sum(not r.is_fault for r in rows) >= 50
    texts = [r.text for r in rows]
    assert len(texts) == len(set(texts)), "duplicate messages"


def test_targets_on_all_rows(rows):
    report = evaluate(rows)
    assert report.fault.precision >= 0.90
    assert report.fault.recall >= 0.85
    for cat, score in report.categories.items():
        assert score.precision >= 0.85, (cat, score)
        assert score.recall >= 0.85, (cat, score)
    assert report.room_accuracy >= 0.95


def test_precision_holds_on_holdout(rows):
    """Rows never tuned on: a false alarm pages a technician, so precision must hold.
    Recall on unseen wording is much lower (about 0.6); this only guards a regression."""
    holdout = [r for r in rows if r.note.startswith("holdout")]
    assert len(holdout) >= 40
    report = evaluate(holdout)
    assert report.fault.precision >= 0.90
    assert report.fault.recall >= 0.50


# ------------------------------------------------------------------ the brief's examples


@pytest.mark.parametrize(
    "text, category",
    [
        ("@LiveOps 3号直播间推流断了", Category.STREAM_DOWN),
        ("@LiveOps A2间补光灯不亮 [image]", Category.LIGHTING),
        ("OBS崩了", Category.ENCODER),
        ("2号间没声音了", Category.AUDIO),
        ("收到违规警告", Category.SANCTION),
        ("价格挂错了 赶紧改", Category.PRICE_STOCK),
        ("卡顿掉帧严重", Category.NETWORK),
        ("camera in room 1 shows black screen", Category.CAMERA),
        ("提词器坏了", Category.OTHER),
    ],
)
def test_examples(text, category):
    result = classify(text)
    assert result.is_fault
    assert result.category == category
    assert result.severity == DEFAULT_SEVERITY[category]
    assert 0.0 < result.confidence <= 1.0


@pytest.mark.parametrize(
    "text, category",
    [
        ("OBS crash", Category.ENCODER),
        ("no sound in room 2", Category.AUDIO),
        ("stream is down", Category.STREAM_DOWN),
        ("mic doesn't work in room 3", Category.AUDIO),
        ("room 1 is lagging badly", Category.NETWORK),
        ("we got a violation warning", Category.SANCTION),
        ("wrong price on link 5", Category.PRICE_STOCK),
        ("fill light is flickering", Category.LIGHTING),
        ("the teleprompter is broken", Category.OTHER),
        ("OBS推流断了", Category.STREAM_DOWN),
    ],
)
def test_english_and_mixed(text, category):
    result = classify(text)
    assert result.is_fault and result.category == category


# ------------------------------------------------------------------ not faults


@pytest.mark.parametrize(
    "text",
    ["推流没断", "声音正常了", "已经好了", "网络不卡了", "没有违规 是误报", "摄像头有画面了",
     "the stream is not down, all good"],
)
def test_negation_and_recovery_are_not_faults(text):
    assert not classify(text).is_fault


@pytest.mark.parametrize(
    "text",
    ["3号直播间几点开播?", "今天谁值班", "补光灯在哪个柜子里?", "怎么设置OBS的自动重连？",
     "这个词算违规吗", "推流断了吗？", "What time does room 3 go live?"],
)
def test_questions_are_not_faults(text):
    assert not classify(text).is_fault


@pytest.mark.parametrize(
    "text, category",
    [
        ("2号间怎么没声音了", Category.AUDIO),  # complaint form
        ("是不是被限流了？在线一直掉", Category.SANCTION),  # suspicion form
        ("OBS崩了怎么办", Category.ENCODER),  # help form
        ("谁能来看一下 推流断了", Category.STREAM_DOWN),
    ],
)
def test_question_shaped_reports_are_faults(text, category):
    result = classify(text)
    assert result.is_fault and result.category == category


def test_past_fault_is_not_a_new_fault():
    result = classify("昨天推流断了的问题解决了吗")
    assert not result.is_fault
    assert any("过去" in r for r in result.reasons)
    assert not classify("上次卡顿的原因找到了吗").is_fault
    # ... unless the message says it is happening again now
    again = classify("昨天推流断了 今天又断了")
    assert again.is_fault and again.category == Category.STREAM_DOWN


def test_recovered_then_broken_again_is_a_fault():
    assert not classify("刚才断了一下 现在已经恢复了").is_fault
    assert classify("推流恢复了一会又断了").is_fault
    assert classify("推流还没恢复").is_fault


@pytest.mark.parametrize(
    "text", ["帮助", "排期 本周", "复盘", "help", "提醒 明天10点 检查补光灯", "排期 3号直播间 明天"]
)
def test_commands_without_slash_are_not_faults(text):
    result = classify(text)
    assert not result.is_fault
    assert any("命令" in r for r in result.reasons)


@pytest.mark.parametrize(
    "text",
    ["主播记得提醒观众点亮灯牌", "扣1报名福利 卡点发福袋", "封面图换一下", "这款断码了 下次补货",
     "直播间人气炸了", "如果推流断了要怎么处理?", "谢谢", "3号直播间今晚8点开播 记得提前到"],
)
def test_near_misses_are_not_faults(text):
    assert not classify(text).is_fault


# ------------------------------------------------------------------ result details


def test_reasons_name_the_keywords_in_chinese():
    result = classify("@LiveOps 3号直播间推流断了")
    assert result.reasons[0].startswith("命中关键词「")
    assert "→ 推流中断" in result.reasons[0]
    assert "推流" in result.keywords


def test_image_marker_is_noted_and_stripped():
    result = classify("@LiveOps A2间补光灯不亮 [image]")
    assert result.has_image
    assert "附带图片证据" in result.reasons


def test_typos_and_full_width():
    assert classify("0BS又崩了").category == Category.ENCODER
    assert classify("３号间掉桢严重").category == Category.NETWORK
    assert classify("ＯＢＳ崩了").category == Category.ENCODER


def test_classify_is_deterministic():
    assert classify("2号间没声音了") == classify("2号间没声音了")


# ------------------------------------------------------------------ severity


def test_default_severities():
    assert DEFAULT_SEVERITY[Category.STREAM_DOWN] == Severity.P0
    assert DEFAULT_SEVERITY[Category.SANCTION] == Severity.P0
    for cat in (Category.NETWORK, Category.ENCODER, Category.AUDIO, Category.CAMERA,
                Category.PRICE_STOCK):
        assert DEFAULT_SEVERITY[cat] == Severity.P1
    assert DEFAULT_SEVERITY[Category.LIGHTING] == Severity.P2
    assert DEFAULT_SEVERITY[Category.OTHER] == Severity.P2


@pytest.mark.parametrize(
    "sev, live, soon, expected",
    [
        ("P0", True, False, "P0"),
        ("P0", False, False, "P0"),
        ("P1", True, False, "P0"),
        ("P1", False, True, "P0"),
        ("P1", False, False, "P1"),
        ("P2", True, True, "P1"),  # both flags: still one level
        ("P3", False, True, "P2"),
        ("P3", False, False, "P3"),
    ],
)
def test_raise_severity(sev, live, soon, expected):
    assert raise_severity(sev, live_now=live, starts_within_2h=soon) == Severity(expected)


# ------------------------------------------------------------------ rooms


def ids(text: str, rooms: list[RoomRef] = ROOMS) -> list[str]:
    return [r.id for r in find_rooms(text, rooms)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3号直播间推流断了", ["r3"]),
        ("3号间没声音", ["r3"]),
        ("三号间推流失败", ["r3"]),
        ("3号推流断了", ["r3"]),
        ("camera in room 1 shows black screen", ["r1"]),
        ("Room3 lagging", ["r3"]),
        ("A2间补光灯不亮", ["r2"]),
        ("a2间补光灯不亮", ["r2"]),
        ("美妆间有回声", ["r3"]),
        ("network keeps dropping in studio B1", ["r4"]),
        ("2、3号间同时断流了", ["r2", "r3"]),
        ("1号和2号间都卡", ["r1", "r2"]),
        ("美妆间和1号间都卡", ["r3", "r1"]),  # ordered by position
        ("3号链接价格不对", []),  # a product link
        ("7月3号开播", []),  # a date
        ("3号下午开会", []),  # a date
        ("13号直播间", []),  # no room 13
        ("A30间", []),
        ("推流断了", []),
    ],
)
def test_find_rooms(text, expected):
    assert ids(text) == expected


def test_ambiguous_mention_returns_every_candidate():
    rooms = [
        RoomRef("a3", "3号直播间", ["A3"]),
        RoomRef("b3", "B区3号直播间", ["B3"]),
        RoomRef("x", "美妆间", ["美妆"]),
        RoomRef("y", "美妆二厅", ["美妆"]),
    ]
    assert ids("3号间断流", rooms) == ["a3", "b3"]
    assert ids("美妆没声音", rooms) == ["x", "y"]
    assert ids("B3断流", rooms) == ["b3"]


def test_room_ref_accepts_a_list_of_aliases():
    room = RoomRef("r9", "9号直播间", ["九号间", "K9"])
    assert room.aliases == ("九号间", "K9")
    assert ids("k9黑屏", [room]) == ["r9"]
    assert ids("九号间黑屏", [room]) == ["r9"]


# ------------------------------------------------------------------ runbook


@pytest.mark.parametrize("locale", ["zh_CN", "en_US"])
@pytest.mark.parametrize("category", list(Category))
def test_runbook_has_three_to_five_steps(category, locale):
    steps = first_steps(category, locale)
    assert 3 <= len(steps) <= 5
    assert all(isinstance(s, str) and s.strip() for s in steps)


def test_runbook_carries_the_domain_specifics():
    def joined(cat: Category, locale: str) -> str:
        return " ".join(first_steps(cat, locale))

    for locale in ("zh_CN", "en_US"):
        assert "1935" in joined(Category.STREAM_DOWN, locale)
        assert "4G/5G" in joined(Category.STREAM_DOWN, locale)
        assert "1.5" in joined(Category.NETWORK, locale)
        assert "5 GHz" in joined(Category.NETWORK, locale)
        assert "x264" in joined(Category.ENCODER, locale)
        assert "48 kHz" in joined(Category.AUDIO, locale)
        assert "HDMI" in joined(Category.CAMERA, locale)
    assert "截图" in joined(Category.SANCTION, "zh_CN")
    assert "中控" in joined(Category.PRICE_STOCK, "zh_CN")
    assert "备用灯" in joined(Category.LIGHTING, "zh_CN")


def test_runbook_unknown_locale_falls_back_to_chinese():
    assert first_steps("audio", "fr_FR") == first_steps(Category.AUDIO, "zh_CN")
    # a returned list is a copy
    first_steps(Category.AUDIO).append("x")
    assert "x" not in first_steps(Category.AUDIO)


# ------------------------------------------------------------------ issue 15: missed reports


@pytest.mark.parametrize(
    "text, category, step",
    [
        ("小黄车链接挂不上去", Category.LISTING, "购物车"),
        ("美妆间购物车点不开", Category.LISTING, "购物车"),
        ("新品链接上架失败 审核不通过", Category.LISTING, "审核"),
        ("推流码过期了", Category.STREAM_KEY, "推流码"),
        ("推流失败，推流地址失效了", Category.STREAM_KEY, "推流码"),  # the cause outweighs the symptom
        ("OBS says the stream key is invalid", Category.STREAM_KEY, "推流码"),
        ("评论区刷不出来", Category.INTERACTION, "评论"),
        ("公屏不显示了", Category.INTERACTION, "评论"),
        ("comments are not showing in room 3", Category.INTERACTION, "评论"),
    ],
)
def test_new_vocabulary_is_a_fault_with_fitting_first_steps(text, category, step):
    result = classify(text)
    assert result.is_fault and result.category == category, result.reasons
    assert result.severity == DEFAULT_SEVERITY[category] == Severity.P1
    assert step in " ".join(first_steps(category, "zh_CN", text))


@pytest.mark.parametrize(
    "text, category",
    [
        ("链接价格挂错了", Category.PRICE_STOCK),  # up but wrong: still price/stock
        ("链接错了", Category.PRICE_STOCK),
        ("小黄车链接打不开", Category.LISTING),  # the same word, cannot be opened
        ("摄像头设置错了", Category.CAMERA),  # "设置错" said of a camera is the camera's
        ("服务器地址填错了 推不出去", Category.STREAM_KEY),
    ],
)
def test_a_shared_object_goes_where_the_symptom_points(text, category):
    result = classify(text)
    assert result.is_fault and result.category == category, result.reasons


@pytest.mark.parametrize(
    "text", ["推流码多久过期一次?", "新的推流码已经发群里了", "评论区炸了 好多人扣1", "3号链接已经挂上了",
             "公屏上有人骂人 场控处理一下", "上行带宽够不够"],
)
def test_new_vocabulary_look_alikes_are_not_faults(text):
    assert not classify(text).is_fault


@pytest.mark.parametrize("text", ["采集卡没信号 黑屏", "1号间采集卡黑屏了", "capture card shows black screen"])
def test_capture_card_black_screen_is_the_camera_with_capture_card_steps(text):
    result = classify(text)
    assert result.is_fault and result.category == Category.CAMERA, result.reasons
    steps = " ".join(first_steps(result.category, "zh_CN", text))
    assert "采集卡" in steps and "备用线路" not in steps
    assert "capture card" in " ".join(first_steps(result.category, "en_US", text))
    # the stream itself going black is still the stream
    assert classify("直播间黑屏了 摄像头是好的").category == Category.STREAM_DOWN


def test_unsure_mentions_name_what_they_are_about():
    room_only = classify("@LiveOps 1号直播间怎么回事")
    assert not room_only.is_fault and room_only.unsure and "直播间" in room_only.objects
    weak = classify("小黄车看一下")
    assert weak.unsure and weak.objects == ("小黄车",)
    # ruled out by a gate or a healthy phrase: not unsure
    assert not classify("3号直播间几点开播?").unsure
    assert not classify("推流没断").unsure


def test_second_holdout_guards_a_regression():
    """fault_holdout_2.csv was written after the issue-15 changes and never tuned on (figures in
    docs/faults.md: precision 0.93, recall 0.93); this only guards a regression."""
    from tests.eval_faults import HOLDOUT_2

    holdout = load_rows(HOLDOUT_2)
    assert len(holdout) >= 60
    report = evaluate(holdout)
    assert report.fault.precision >= 0.90 and report.fault.recall >= 0.85
    valid = {c.value for c in Category}
    assert all((r.category in valid) if r.is_fault else r.category == "" for r in holdout)


def test_no_command_name_is_an_everyday_word_of_a_fault_report():
    """"@LiveOps comments are not showing in room 3" is a fault: the /舆情 command was once
    called /comments, and the mention read as that command. No command or alias may be a word
    the fault vocabulary uses for an object (comments, mic, sound, stream ...)."""
    from bot.commands import load_all
    from bot.commands.registry import REGISTRY
    from bot.faults.parse import CATEGORY_WORDS

    load_all()
    names = {n.lower() for spec in REGISTRY.commands.values() for n in spec.names}
    assert not names & {w.lower() for w in CATEGORY_WORDS}
