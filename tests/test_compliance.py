"""Tests for the script compliance checker (bot/compliance). Speed is measured by
tests/bench/bench_compliance.py, not asserted here."""
from __future__ import annotations

import csv
import io

import pytest

from bot.compliance import CATEGORIES, Checker, Exemption, Term, Verdict, check, load_terms
from bot.compliance.extract import ExtractError, extract_lines, to_text
from bot.compliance.matcher import DATA, RULES
from bot.compliance.normalize import normalize
from bot.compliance.report import MAX_BYTES, escape_md, render_markdown
from tests.eval_compliance import (
    TARGET_PRECISION, TARGET_RECALL, evaluate, format_report, load_rows,
)


def hits_of(text: str, checker: Checker | None = None) -> list[tuple[str, str, str]]:
    return [(h.matched, h.category, h.severity) for h in check(text, checker).hits]


def categories(text: str, checker: Checker | None = None) -> set[str]:
    return {h.category for h in check(text, checker).hits}


# --------------------------------------------------------------------------- evaluation

def test_labelled_set_shape() -> None:
    rows = load_rows()
    assert len(rows) >= 220
    seen = {c for r in rows for c in r.expected}
    for cat in CATEGORIES:
        assert cat in seen, cat
    assert sum(not r.is_violation for r in rows) >= 60
    assert all(r.severity in ("block", "warn") for r in rows if r.is_violation)


def test_second_holdout_shape_and_floor() -> None:
    """tests/data/compliance_holdout2.csv was written after the issue-15 changes and measured
    once (docs/compliance.md): precision 0.881, recall 0.937. A floor against regressions,
    not a target to tune to."""
    from pathlib import Path

    rows = load_rows(Path(__file__).parent / "data" / "compliance_holdout2.csv")
    assert len(rows) >= 80
    notes = " ".join(r.note for r in rows)
    for kind in ("evasion", "negation", "schedule", "lure"):
        assert kind in notes, kind
    rep = evaluate(rows)
    assert rep.overall.precision >= 0.85 and rep.overall.recall >= 0.9, format_report(rep, errors=True)


def test_eval_targets() -> None:
    rep = evaluate()
    text = format_report(rep, errors=True)
    assert rep.overall.precision >= TARGET_PRECISION, text
    assert rep.overall.recall >= TARGET_RECALL, text


# --------------------------------------------------------------------------- term list

def test_term_list_is_well_formed() -> None:
    terms = load_terms(DATA)
    real = [t for t in terms if t.severity in ("block", "warn")]
    assert len(real) >= 350
    for t in terms:
        assert t.severity in ("block", "warn", "allow"), t
        if t.severity == "allow":
            continue
        assert t.category in CATEGORIES, t
        assert t.basis and t.reason, t
        for name in filter(None, t.rule.split("+")):
            assert name in RULES, t
    keys = [(t.term, t.category) for t in terms]
    assert len(keys) == len(set(keys))
    with open(DATA, encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == ["term", "category", "severity", "basis", "reason",
                                        "suggestions", "rule"]


def test_load_default_is_cached() -> None:
    assert Checker.load_default() is Checker.load_default()


# --------------------------------------------------------------------------- basics

def test_verdicts_and_counts() -> None:
    ok = check("家人们晚上好，今天给大家带来三个福利款")
    assert ok.verdict is Verdict.PASS and ok.hits == [] and ok.counts["total"] == 0
    warn = check("原价999，今天只要99")
    assert warn.verdict is Verdict.WARN
    block = check("这是全网最低价，原价999")
    assert block.verdict is Verdict.BLOCK
    assert block.counts == {"block": 1, "warn": 1, "total": 2}
    assert block.by_category == {"价格违规": 2}
    assert Verdict.BLOCK.label() == "必须修改" and Verdict.PASS.label("en_US") == "Pass"


def test_hit_fields() -> None:
    h = check("这款面霜效果最好").hits[0]
    assert (h.term, h.matched, h.category, h.severity) == ("最好", "最好", "绝对化", "block")
    assert "第九条第三项" in h.basis and h.reason and h.suggestions
    assert h.context == "这款面霜效果最好"


def test_offsets_point_at_original_text() -> None:
    text = "第一行没问题\n这款 最😊好 的面霜，加ＶＸ领券\n第三行"
    res = check(text)
    got = [(h.matched, h.line) for h in res.hits]
    assert got == [("最😊好", 2), ("加ＶＸ", 2)]
    for h in res.hits:
        assert text[h.start:h.end] == h.matched


def test_normalize_map() -> None:
    n = normalize("Ａ b，最😊好")
    assert n.text == "ab\n最好"
    assert n.span(3, 5) == (4, 7)


def test_no_match_across_clauses() -> None:
    assert hits_of("这是最，好的") == []
    assert hits_of("最\n好") == []


# --------------------------------------------------------------------------- evasions

@pytest.mark.parametrize("text", [
    "这款精华效果最 好",            # space
    "最😍好用的洗面奶",              # emoji
    "最.好的选择",                   # punctuation
    "最　好",                        # ideographic space
    "ＮＯ．１的防晒霜",              # full-width
    "國家級品質",                    # traditional characters
    "最\u200b好",                    # zero-width space
])
def test_absolute_evasions(text: str) -> None:
    assert "绝对化" in categories(text)


@pytest.mark.parametrize("text", [
    "加我微信", "加VX领券", "加ＶＸ：liveops888", "有需要的+V详聊", "➕v了解", "V信联系",
    "薇信搜一下", "威信号在主页", "加微❤️拿内部价", "加 v 看更多", "扣扣：123456789",
    "QQ号发你", "私聊下单有赠品", "私信我下单", "扫二维码进群", "二维码进群领福利",
    "V：lm2024 备注直播间", "打我电话13812345678", "手机 138 1234 5678", "微-信-搜-索",
    "WeiXin：abc123", "加绿泡泡",
])
def test_contact_evasions(text: str) -> None:
    assert "导流/私单" in categories(text), text


@pytest.mark.parametrize("text", [
    "他在团队里很有威信", "拍下后客服会私信你确认尺码", "进我粉丝群有专属链接",
    "可以用微信支付", "QQ糖今天买一送一", "dev x 版本", "添加微量元素",
    "我们从来不刷单", "谨防私下交易",
])
def test_contact_false_positives(text: str) -> None:
    assert categories(text) == set(), text


# --------------------------------------------------------------------------- false positives

@pytest.mark.parametrize("text", [
    "最近天气转凉了", "今天是活动最后一天，晚上8点准时开播", "第一次来直播间的宝宝点个关注",
    "这是特效化妆用的道具", "最终价格以页面为准", "最少买两件", "第一步先洁面", "我们来看第一个链接",
    "第一款是连衣裙", "最佳食用期是开封后七天内", "最佳赏味期请参考包装", "积极品牌形象",
    "独特效果", "包裹到转运中心了", "黑科技加持", "唯一的缺点是有点贵", "100%纯棉面料",
    "第一，面料透气；第二，版型好", "最高立减50元", "本品不能代替药物治疗", "第一时间发货",
    "建议最好饭后喝", "招财猫摆件很可爱", "最多可以叠加两张券",
])
def test_classic_false_positives(text: str) -> None:
    assert hits_of(text) == [], text


# --------------------------------------------------------------------------- sound-alikes (issue 15)

def sound_hits(text: str) -> list[tuple[str, str, str]]:
    return [(h.matched, h.term, h.severity) for h in check(text).hits if h.kind == "sound"]


@pytest.mark.parametrize("text,matched,term", [
    ("quan wang zui di jia", "quan wang zui di jia", "全网最低价"),
    ("今天 quanwangzuidijia 哦", "quanwangzuidijia", "全网最低价"),
    ("这个面霜 zui hao yong", "zui hao yong", "最好用"),
    ("ZUI HAO YONG", "ZUI HAO YONG", "最好用"),          # upper case folds
    ("这款zui好用", "zui好用", "最好用"),
    ("全网zui低，冲", "全网zui低", "全网最低"),
    ("蕞好用的一款", "蕞好用", "最好用"),                  # 蕞 zuì: an uncommon homophone
    ("全网醉低价", "全网醉低价", "全网最低价"),            # 醉 zuì inside the term
    ("想要的加卫星下单", "卫星", "微信"),                  # 卫星 ≈ 微信, with 加 … 下单 touching
])
def test_pinyin_and_homophones_are_read_as_the_term(text: str, matched: str, term: str) -> None:
    res = check(text)
    assert res.verdict is Verdict.BLOCK, text
    [hit] = [h for h in res.hits if h.kind == "sound"]
    assert (hit.matched, hit.term) == (matched, term)
    assert f"读作「{term}」" in hit.note


@pytest.mark.parametrize("text", [
    "国家及地方标准都符合",        # 及 jí ≈ 级 at the edge of 国家级, and a common character
    "帮我递一下剪刀",              # 递一 ≈ 第一
    "她嘴好甜，大家都喜欢她",      # 嘴 zuǐ is not 最 zuì
    "笑死我了，赶紧加购",          # 死 sǐ is not 私 sī
    "快收藏，加购物车",            # 快收 ≈ 快手, but 快 is the term's own character
    "支持北斗卫星定位，加购物车下单",  # 卫星 without a contact verb next to it
    "我们家有粉丝群，关注就能进",  # 有 reads wěi only in classical texts: not 加微
    "I like shopping and hanging out",
    "wifi密码是 zhubo2024",
    "最好用温水洗",                # allowed usage hint, literal
])
def test_sound_alike_false_positives(text: str) -> None:
    assert sound_hits(text) == [], text


def test_sound_alike_keeps_context_rules_and_exemptions() -> None:
    # the term's own rules run on the clause with the term put in: 本店 → downgraded
    [hit] = check("本店今日xiao liang di yi").hits
    assert (hit.term, hit.severity) == ("销量第一", "warn")
    # a declared product name covers a sound-alike inside it
    checker = Checker.load_default().with_team(exemptions=[Exemption("醉好酒", "商品名")])
    assert check("醉好酒上新了", checker).hits == []


def test_sound_alike_pinyin_run_must_be_pinyin_throughout() -> None:
    assert sound_hits("xzuihaoyongx") == []   # "x" is no syllable: not pinyin
    assert sound_hits("zuihaoyong") == [("zuihaoyong", "最好用", "block")]


# --------------------------------------------------------------------------- negation (issue 15)

@pytest.mark.parametrize("text", [
    "这款不是最便宜的，但是品质好", "我们并非全网最低价", "这个不算最好的", "没有最低价，价格以页面为准",
    "不敢说是最好的，但是真的好用",
])
def test_a_denied_absolute_is_not_flagged(text: str) -> None:
    assert categories(text) & {"绝对化", "价格违规"} == set(), text


@pytest.mark.parametrize("text,category", [
    ("没有比这更好的了", "绝对化"),              # an absolute claim made by a negation
    ("全网找不到比它更便宜的", "绝对化"),
    ("再也没有哪款比这个还好用的", "绝对化"),
    ("难道不是最好的吗", "绝对化"),              # a question asserts it
    ("没有最低，只有更低", "绝对化"),
    ("不是全网最低价就退差价", "价格违规"),       # a guarantee tied to the claim
    ("不仅是最好的，还是最便宜的", "绝对化"),     # 不仅是 is no denial
])
def test_claims_made_with_a_negation_are_still_flagged(text: str, category: str) -> None:
    assert category in categories(text), text


def test_negated_comparison_is_not_every_comparison() -> None:
    assert check("没有比较就没有伤害").hits == []
    assert check("今年没有比去年更热").hits == []


# --------------------------------------------------------------------------- private deals (issue 15)

@pytest.mark.parametrize("text", ["扣1我私你，给你返现", "想要的扣1，我私你发优惠券", "扣1，单独给你返现",
                                  "私您一个专属价"])
def test_private_deal_lures(text: str) -> None:
    assert "导流/私单" in categories(text), text
    assert check(text).verdict is Verdict.BLOCK


@pytest.mark.parametrize("text", ["下单返现10元，平台活动", "客服会私你确认地址", "有问题我私你",
                                  "我们不会私下返现，谨防受骗"])
def test_private_deal_false_positives(text: str) -> None:
    assert "导流/私单" not in categories(text), text


# --------------------------------------------------------------------------- must be true (issue 15)

def test_allowed_title_that_must_be_true_is_suggested_for_checking() -> None:
    res = check("国家级非遗传承人手工制作")
    assert res.verdict is Verdict.WARN
    [hit] = res.hits
    assert (hit.matched, hit.severity, hit.kind, hit.note) == ("国家级非遗", "warn", "verify", "需属实，请核对资质")
    md = render_markdown(res)
    assert "建议改" in md and "需属实，请核对资质" in md
    assert "check the certificate" in render_markdown(res, "en_US")
    # a plain 国家级 claim stays a must-change; other allow-list phrases stay silent
    assert check("国家级品质").verdict is Verdict.BLOCK
    assert check("最佳食用期是开封后七天内").hits == []


# --------------------------------------------------------------------------- legal exemptions

def test_time_place_limited_fact_is_warn() -> None:
    res = check("本店今日销量第一的就是这款")
    assert [(h.matched, h.severity) for h in res.hits] == [("销量第一", "warn")]
    assert res.hits[0].note
    assert check("全网销量第一的就是这款").verdict is Verdict.BLOCK


def test_same_brand_comparison_is_warn() -> None:
    assert [(h.matched, h.severity) for h in check("我们家最好的一款就是它").hits] == [("最好", "warn")]
    assert check("这是最好的一款").verdict is Verdict.BLOCK


def test_declared_exemptions() -> None:
    text = "至尊礼盒今天有货，至尊品质"
    assert [h.matched for h in check(text).hits] == ["至尊", "至尊"]
    team = Checker.load_default().with_team(exemptions=[("至尊礼盒", "商品名")])
    res = check(text, team)
    assert [h.matched for h in res.hits] == ["至尊"]          # only the unexempted one
    assert [h.matched for h in res.exempted] == ["至尊"]
    assert "商品名" in res.exempted[0].note
    # evasions of the exempt phrase are exempt too
    assert check("至 尊 礼 盒", team).hits == []
    everywhere = Checker.load_default().with_team(exemptions=[Exemption("至尊", "商标")])
    assert check(text, everywhere).verdict is Verdict.PASS


def test_exemption_kind_is_checked() -> None:
    with pytest.raises(ValueError):
        Checker([], exemptions=[("至尊", "随便")])


def test_team_terms() -> None:
    base = load_terms(DATA)
    team = Checker(base, extra_terms=["竞品A", Term("秒杀价", "价格违规", "block", "团队规则", "团队禁用")])
    res = check("竞品A不如我们，秒杀价只要9块9", team)
    assert [(h.matched, h.category, h.severity) for h in res.hits] == [
        ("竞品A", "团队自定义", "warn"), ("秒杀价", "价格违规", "block")]
    # a team term with the same text overrides the default one
    soft = Checker(base, extra_terms=[Term("最好", "绝对化", "warn", "团队规则", "本团队降级")])
    assert [(h.matched, h.severity) for h in check("效果最好", soft).hits] == [("最好", "warn")]
    with pytest.raises(ValueError):
        Checker([Term("x", "绝对化", "fatal")])
    with pytest.raises(ValueError):
        Checker([Term("x", "绝对化", "warn", rule="nope")])


def test_patterns() -> None:
    assert hits_of("7天瘦10斤不是梦") == [("7天瘦10斤", "功效夸大", "block")]
    assert "功效夸大" in categories("三天见效")
    assert "未成年人" in categories("小主播才十四岁")
    assert "未成年人" not in categories("主播今年二十岁")


def test_overlaps_keep_the_longest() -> None:
    assert hits_of("全网最低价") == [("全网最低价", "价格违规", "block")]
    assert hits_of("100%有效") == [("100%有效", "虚假承诺", "block")]


# --------------------------------------------------------------------------- renderer

def test_render_highlights_and_groups() -> None:
    res = check("第一行\n这款是全网最好用的，原价999\n本店今日销量第一")
    md = render_markdown(res)
    assert "必须修改" in md
    assert "**第 2 行**" in md and "**第 3 行**" in md and "**第 1 行**" not in md
    assert "这款是<font color='red'>全网最好用</font>的" in md
    assert "<font color='orange'>原价</font>" in md
    assert "建议改为" in md and "《广告法》第九条第三项" in md
    en = render_markdown(res, locale="en_US")
    assert "Must change" in en and "Absolute claim" in en and "Line 2" in en


def test_render_pass() -> None:
    md = render_markdown(check("大家晚上好"))
    assert "通过" in md and "未发现" in md


def test_render_escapes_user_text() -> None:
    text = "<at id=all></at> **最好** 的[链接](http://x) `code` ~~删~~ _斜_"
    md = render_markdown(check(text))
    assert "<at" not in md and "&lt;at id=all&gt;" in md
    assert "\\*\\*" in md and "\\[链接\\]" in md and "\\`code\\`" in md and "\\~\\~" in md
    assert "\\_斜\\_" in md
    # the only tags left are our own font tags
    import re
    assert set(re.findall(r"<(/?\w+)", md)) <= {"font", "/font"}
    assert escape_md("a&b") == "a&amp;b"


def test_render_escapes_team_terms() -> None:
    team = Checker(load_terms(DATA), extra_terms=[Term("坏词", "绝对化", "block", "<b>规则</b>", "x",
                                                       ("[点我](http://evil)",))])
    md = render_markdown(check("这是坏词", team))
    assert "<b>" not in md and "\\[点我\\]" in md


def test_render_truncates() -> None:
    text = "\n".join(f"第{i}条：这款是全网最好用的面霜，加VX领券" for i in range(200))
    res = check(text)
    assert len(res.hits) == 400
    md = render_markdown(res, max_hits=30)
    assert "还有 370 处未显示" in md
    assert md.count("<font color='red'>") >= 30
    big = render_markdown(res, max_hits=10_000)
    assert len(big.encode("utf-8")) <= MAX_BYTES
    assert "处未显示" in big


def test_render_long_line_windows_and_labels() -> None:
    text = "很普通的一句话。" * 40 + "这款最好" + "很普通的一句话。" * 40
    md = render_markdown(check(text), line_labels=["Sheet1!B7"])
    assert "**Sheet1!B7**" in md and "…" in md
    assert len(md) < 1500


# --------------------------------------------------------------------------- extraction

def test_extract_txt_and_md() -> None:
    data = "第一行\n这款最好\r\n\n加VX".encode("utf-8")
    lines = extract_lines(data, "脚本.txt")
    assert [(x.number, x.text) for x in lines] == [(1, "第一行"), (2, "这款最好"), (3, ""), (4, "加VX")]
    res = check(to_text(lines))
    assert [h.line for h in res.hits] == [2, 4]
    assert lines[res.hits[1].line - 1].label == "第 4 行"
    assert extract_lines("最好".encode("gb18030"), "a.TXT")[0].text == "最好"
    assert extract_lines("最好".encode("utf-16"), "a.txt")[0].text == "最好"
    md = extract_lines("# 标题\n- **全网最低价**".encode("utf-8"), "script.md")
    assert "价格违规" in categories(to_text(md))


def test_extract_docx() -> None:
    docx = pytest.importorskip("docx")
    doc = docx.Document()
    doc.add_paragraph("开场白：家人们晚上好")
    doc.add_paragraph("")
    doc.add_paragraph("这款面霜是全网最好用的")
    table = doc.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "话术"
    table.cell(0, 1).text = "加微信领券"
    buf = io.BytesIO()
    doc.save(buf)
    lines = extract_lines(buf.getvalue(), "脚本.docx")
    assert [x.text for x in lines] == ["开场白：家人们晚上好", "这款面霜是全网最好用的", "话术", "加微信领券"]
    assert lines[1].label == "第 3 段" and lines[3].label == "表格1 第1行第2列"
    res = check(to_text(lines))
    assert [lines[h.line - 1].label for h in res.hits] == ["第 3 段", "表格1 第1行第2列"]


def test_extract_xlsx() -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "脚本"
    ws.append(["时间", "话术"])
    ws.append(["20:00", "这是史上最低价"])
    ws.append([None, 12345])
    buf = io.BytesIO()
    wb.save(buf)
    lines = extract_lines(buf.getvalue(), "脚本.xlsx")
    assert [(x.text, x.label) for x in lines] == [
        ("时间", "脚本!A1"), ("话术", "脚本!B1"), ("20:00", "脚本!A2"), ("这是史上最低价", "脚本!B2"),
        ("12345", "脚本!B3")]
    res = check(to_text(lines))
    assert lines[res.hits[0].line - 1].label == "脚本!B2"


@pytest.mark.parametrize("data,name", [
    (b"%PDF-1.4", "脚本.pdf"),
    (b"\xd0\xcf\x11\xe0", "脚本.doc"),
    (b"not a zip", "脚本.docx"),
    (b"not a zip", "脚本.xlsx"),
    (b"", "脚本.txt"),
    (b"   \n  ", "脚本.txt"),
    (b"PK\x03\x04abc", "改名.txt"),
    (b"\x00\x81\x00\xff" * 10, "乱码.txt"),
])
def test_extract_errors_are_bilingual(data: bytes, name: str) -> None:
    with pytest.raises(ExtractError) as info:
        extract_lines(data, name)
    err = info.value
    assert " / " in str(err) and err.zh and err.en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.message("zh_CN"))
    assert err.message("en_US").isascii() or name in err.message("en_US")
