"""Term matching: a character trie walked over the normalised text, then context rules.

Pipeline for one text (see ``Checker.check``):

1. ``normalize`` the text (full/half width, case, inserted spaces/emoji/punctuation, a map
   back to original offsets; clause breaks become ``\\n`` so no match spans two clauses).
2. Walk the trie from every position whose character starts some term. The trie holds
   every term, the built-in allow-list phrases and the team's exemptions. Two pattern
   tokens are allowed in a term: ``*`` = one Chinese character, ``{n}`` = a number
   (ASCII digits or Chinese numerals). A phone-number detector runs as one regex.
3. Context rules named in the term list drop a candidate or downgrade it from block to
   warn (ordinals such as 第一次, time/place/brand-limited facts, contact words that need a
   contact context, disease names that need a treatment verb, ...).
4. Allow-list phrases and exemptions suppress every candidate lying inside them.
5. Overlaps: a candidate inside a longer (or equally long, more specific) one of at least
   the same severity is dropped; partially overlapping candidates of the same category
   are merged into one hit.
"""
from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import lru_cache
from pathlib import Path
import re
from typing import Callable, Generic, Iterable, Sequence, TypeVar

from bot.compliance.normalize import BREAK, Normalized, normalize, normalize_term

DATA = Path(__file__).resolve().parent / "terms.csv"

BLOCK = "block"
WARN = "warn"
ALLOW = "allow"
SEVERITIES = (BLOCK, WARN, ALLOW)
_RANK = {BLOCK: 2, WARN: 1, ALLOW: 0}

CATEGORIES = (
    "绝对化", "权威背书", "医疗用语", "功效夸大", "虚假承诺", "诱导", "导流/私单", "迷信",
    "虚假数据", "价格违规", "未成年人", "贬低竞品",
)
TEAM_CATEGORY = "团队自定义"
ALLOW_CATEGORY = "白名单"

EXEMPTION_KINDS = ("商品名", "商标", "品牌内比较", "用法提示", "其他")

NUM_CHARS = frozenset("0123456789零〇一二两三四五六七八九十百千万")
_NUM = "\x00n"   # trie key for the {n} token (\x00 never survives normalisation)
_HAN = "\x00h"   # trie key for the * token
_END = "\x00e"   # trie key holding the entries that end at a node


class Verdict(str, Enum):
    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"

    def label(self, locale: str = "zh_CN") -> str:
        zh, en = _VERDICT_LABELS[self.value]
        return en if locale == "en_US" else zh


_VERDICT_LABELS = {"pass": ("通过", "Pass"), "warn": ("建议修改", "Changes suggested"),
                   "block": ("必须修改", "Must change")}


@dataclass(frozen=True)
class Term:
    """One row of the term list. ``severity`` is block, warn or allow (allow-list phrase)."""

    term: str
    category: str = TEAM_CATEGORY
    severity: str = WARN
    basis: str = ""
    reason: str = ""
    suggestions: tuple[str, ...] = ()
    rule: str = ""

    @property
    def is_pattern(self) -> bool:
        return "*" in self.term or "{n}" in self.term


@dataclass(frozen=True)
class Exemption:
    """A team-declared phrase whose terms are not reported (e.g. a product name)."""

    phrase: str
    kind: str = "其他"


@dataclass(frozen=True)
class Hit:
    term: str            # the list entry that matched (e.g. "最好", "{n}天见效")
    matched: str         # the original text, including any inserted spaces/emoji
    start: int           # original offsets, [start, end)
    end: int
    line: int            # 1-based line of ``start``
    category: str
    severity: str        # block | warn
    basis: str
    reason: str
    suggestions: tuple[str, ...]
    context: str         # the original line around the hit
    note: str = ""       # e.g. why a block was downgraded, or which exemption applied


@dataclass(frozen=True)
class CheckResult:
    text: str
    hits: list[Hit]
    verdict: Verdict
    counts: dict[str, int]                 # block, warn, total
    by_category: dict[str, int]
    exempted: list[Hit] = field(default_factory=list)


# --------------------------------------------------------------------------- loading

def load_terms(path: Path | str = DATA) -> list[Term]:
    """Read a term list CSV (term, category, severity, basis, reason, suggestions, rule)."""
    terms: list[Term] = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if not (row.get("term") or "").strip():
                continue
            terms.append(Term(
                term=row["term"].strip(),
                category=(row.get("category") or "").strip(),
                severity=(row.get("severity") or "").strip(),
                basis=(row.get("basis") or "").strip(),
                reason=(row.get("reason") or "").strip(),
                suggestions=tuple(s.strip() for s in (row.get("suggestions") or "").split("|")
                                  if s.strip()),
                rule=(row.get("rule") or "").strip(),
            ))
    return terms


def _as_term(item: Term | str) -> Term:
    if isinstance(item, Term):
        return item
    return Term(term=str(item), category=TEAM_CATEGORY, severity=WARN, basis="团队规则",
                reason="团队自定义敏感词")


def _as_exemption(item: Exemption | tuple[str, str] | str) -> Exemption:
    if isinstance(item, Exemption):
        ex = item
    elif isinstance(item, str):
        ex = Exemption(item, "其他")
    else:
        ex = Exemption(item[0], item[1])
    if ex.kind not in EXEMPTION_KINDS:
        raise ValueError(f"exemption kind must be one of {EXEMPTION_KINDS}: {ex.kind!r}")
    if not normalize_term(ex.phrase):
        raise ValueError(f"empty exemption phrase: {ex.phrase!r}")
    return ex


def _tokens(term: str) -> list[str]:
    """Split a term into trie keys: normalised characters, _NUM and _HAN tokens."""
    out: list[str] = []
    for piece in re.split(r"(\{n\}|\*)", term):
        if piece == "{n}":
            out.append(_NUM)
        elif piece == "*":
            out.append(_HAN)
        elif piece:
            out.extend(normalize_term(piece))
    return out


# --------------------------------------------------------------------------- rules

@dataclass(frozen=True)
class _Ctx:
    norm: Normalized
    start: int
    end: int
    clause_start: int
    clause_end: int
    term: Term

    @property
    def text(self) -> str:
        return self.norm.text

    @property
    def clause(self) -> str:
        return self.norm.text[self.clause_start:self.clause_end]

    @property
    def prefix(self) -> str:
        return self.norm.text[self.clause_start:self.start]

    @property
    def after(self) -> str:
        return self.norm.text[self.end:self.clause_end]

    def window(self) -> str:
        """The clause plus its neighbours (a contact phrase often spans a comma), with the
        matched term itself cut out so it cannot be its own context."""
        t = self.norm.text
        a = t.rfind(BREAK, 0, max(self.clause_start - 1, 0)) + 1 if self.clause_start else 0
        b = t.find(BREAK, self.clause_end + 1)
        return t[a:self.start] + BREAK + t[self.end:len(t) if b < 0 else b]


KEEP, DROP, DOWNGRADE = "keep", "drop", "downgrade"

# Characters/words after 第一 that make it an ordinal (第一次, 第一步, 第一个, 第一时间...).
_ORDINAL_NEXT = frozenset("次步个款天场轮件批位期单份号条点排节章集季届波眼口层遍回把题组套盒瓶支张"
                          "页行列句段部年周月日晚代课关站颗粒包袋双只台辆篇封声种类位首阶任片罐杯勺滴")
_ORDINAL_NEXT2 = ("时间", "阶段", "链接", "部分", "印象", "反应", "感觉", "视角", "现场", "手", "线")
# Characters after 最 that make an ordinary word (最近, 最后, 最终, 最少, 最喜欢, 最重要...).
_ZUI_OK = frozenset("近后终初早晚迟少多快爱喜讨怕想常要重关基起主末底右左上下前外里内中小长短")
# Scope words that make a superlative a time/place/brand-limited statement.
_BRAND_SCOPE = ("本店", "店里", "店内", "全店", "我们店", "我们家", "我家", "自家", "本品牌", "品牌内",
                "同系列", "本系列", "系列里", "系列中", "这个系列", "旗下", "这几款", "这几个", "几款里",
                "几款中", "款里面", "所有款里", "店铺里", "我们店里")
_TIME_PLACE_SCOPE = ("今日", "今天", "本日", "当天", "当日", "今晚", "本场", "这场", "本周", "这周", "本月",
                     "这个月", "本季", "今年", "本年度", "昨天", "昨日", "上周", "上个月", "去年",
                     "直播间", "本平台", "类目", "品类")
_GLOBAL = ("全网", "全球", "全国", "世界", "史上", "行业", "宇宙", "天下", "中国", "国内", "国际",
           "市面", "全平台")
_CONTACT_CTX = ("加", "联系", "找我", "私", "搜", "扫", "号", "下单", "拿货", "转账", "发你", "发给你",
                "聊", "进", "去", "戳", "留", "打", "拨", "买", "便宜", "优惠", "内部", "详情", "主页")
_ORDER_CTX = ("下单", "拍", "买", "转账", "付款", "便宜", "优惠", "拿货", "内部", "价", "订", "要的",
              "想要", "福利", "赠品", "返", "加", "联系", "微", "号", "私下", "不走", "链接", "发你",
              "款", "货", "橱窗", "看不到", "没有的", "尺码")
# Treatment/result words that turn a disease or symptom name into a medical claim. Kept to
# words, not single characters, so 除了/根据/降价/消费 do not count.
_TREAT_CTX = ("治", "疗", "愈", "根治", "断根", "根除", "去除", "消除", "祛除", "清除", "除掉", "缓解",
              "改善", "预防", "防止", "防癌", "消失", "消炎", "消肿", "消退", "告别", "远离", "摆脱",
              "调理", "克星", "不再", "再也不", "就好", "好了", "康复", "恢复", "抑制", "对抗", "抗病",
              "降低", "降下", "降血", "降了", "养好", "救星", "有救", "专门", "解决", "调节", "修复",
              "辅助", "控制", "逆转", "就不", "好转", "见好", "痊愈", "杀死", "杀灭", "灭菌", "补气",
              "补血", "稳稳", "正常了", "排出", "排除", "祛", "矫正", "软化", "疏通", "提高", "提升",
              "增强", "往上涨", "蹭蹭", "没了", "不见了", "止", "消了", "就消", "拔出", "拔除",
              "不用再吃", "停药", "替代", "戒掉", "救")
# Strong result words that turn a cosmetic/cleaning concern (黑眼圈, 皱纹, 污渍) into an
# efficacy guarantee.
_RESULT_CTX = ("没了", "消失", "不见了", "全没", "一扫而光", "彻底", "去除", "去掉", "立刻", "马上",
               "立马", "当天", "直接没", "再也", "根治", "永久", "瞬间", "告别", "秒", "一次就",
               "一抹", "全部", "所有", "全都", "统统", "通通", "{n}天")
_FIBRE_CTX = ("棉", "羊毛", "羊绒", "真丝", "蚕丝", "涤纶", "聚酯", "锦纶", "氨纶", "麻", "纤维", "含量",
              "成分", "纯银", "足金", "皮", "原浆", "果汁", "鲜榨", "绒")
_SUPERSTITION_CTX = ("太岁", "运", "财", "邪", "煞", "灾", "佛", "菩萨", "大师", "开光", "貔貅", "风水",
                     "本命", "桃花", "符", "神", "仙", "法师", "寺", "观音", "灵", "请来", "庙", "金蟾",
                     "门口", "摆", "生意兴隆", "发财")
_USAGE_NEXT = ("食用", "饮用", "使用", "赏味", "佩戴", "冲泡", "保存", "储存", "存储", "温度", "时间",
               "时机", "观看", "播放", "浸泡", "水温", "比例", "位置", "距离", "角度", "姿势", "方法",
               "方式", "在", "是", "不要", "别", "先", "提前", "选", "用温水", "放", "搭配", "尺码",
               "码数", "穿法", "期", "饭后", "饭前", "睡前", "早上", "晚上", "空腹", "每天", "配合",
               "一次", "开封", "当天", "冷藏", "常温", "避光", "密封", "尽快", "半小时", "两小时")
_REFUND_CTX = ("效果", "有效", "见效", "无效", "没用", "不好用", "用不好", "没变化", "没效果", "不满意")
_REVIEW_CTX = ("返", "红包", "现金", "奖励", "领", "送", "有礼", "补贴", "给钱")
_LING_NOT = frozenset("活敏感动巧便气性通光")
# Negators right before a term (不刷单, 没有私下交易) ...
_NEGATORS = ("不", "没", "没有", "从不", "从来不", "绝不", "拒绝", "杜绝", "谨防", "禁止", "严禁", "不要",
             "别", "切勿", "请勿", "勿", "不会", "不能", "不用", "不接受", "不支持", "防止", "警惕")
# ... and warnings that may stand up to 12 characters earlier (不要加任何人的微信).
_WARNINGS = ("从不", "从来不", "绝不", "拒绝", "杜绝", "谨防", "禁止", "严禁", "不要", "切勿", "请勿",
             "不接受", "不支持", "防止", "警惕", "小心", "提醒")
_NEGATABLE = ("虚假数据", "导流/私单")


def _has(s: str, words: Iterable[str]) -> bool:
    return any(w in s for w in words)


def _rule_ordinal(c: _Ctx) -> str:
    after = c.after
    if after[:1] in _ORDINAL_NEXT or after.startswith(_ORDINAL_NEXT2):
        return DROP  # 第一次, 行业第一线, 全国第一批
    if c.text[c.start:c.end] != "第一":
        return KEEP
    if c.start == c.clause_start and (not after or after[:1] in "是呢就呀啊"):
        return DROP  # enumeration: "第一，质地轻薄；第二，..."
    if c.text[c.start - 1:c.start] in NUM_CHARS or after[:1] in NUM_CHARS:
        return DROP  # 第一二 / 1第一: numbering
    return KEEP


def _rule_zui(c: _Ctx) -> str:
    if c.text[c.end - 1] in _ZUI_OK or c.after.startswith(_USAGE_NEXT):
        return DROP  # 最近, 最后, 最喜欢, 最佳饮用温度
    return KEEP


def _scoped(c: _Ctx, scope: Iterable[str]) -> bool:
    matched = c.text[c.start:c.end]
    return not _has(matched, _GLOBAL) and _has(c.prefix, scope)


def _rule_rank(c: _Ctx) -> str:
    return DOWNGRADE if _scoped(c, _BRAND_SCOPE + _TIME_PLACE_SCOPE) else KEEP


def _rule_brand(c: _Ctx) -> str:
    return DOWNGRADE if _scoped(c, _BRAND_SCOPE) else KEEP


def _rule_contact(c: _Ctx) -> str:
    w = c.window()
    if _has(w, _CONTACT_CTX) or re.search(r"[0-9]{5,}", w):
        return KEEP
    return DROP


_CONTACT_STRICT_CTX = ("加", "联系", "私", "搜", "号", "群", "扫", "发你", "发给你", "找我", "留")


def _rule_contact_strict(c: _Ctx) -> str:
    """For short/ambiguous names (qq, tb, 企鹅): a contact verb or an account number."""
    w = c.window()
    if _has(w, _CONTACT_STRICT_CTX) or re.search(r"[0-9]{5,}", w):
        return KEEP
    return DROP


def _rule_private(c: _Ctx) -> str:
    after = c.after
    if after.startswith(("你", "您")) or "客服" in c.prefix:
        return DROP  # the shop's customer service messaging the buyer, on the platform
    return KEEP if _has(c.window(), _ORDER_CTX) else DROP


def _rule_disease(c: _Ctx) -> str:
    return KEEP if _has(c.window(), _TREAT_CTX) else DROP


def _rule_result(c: _Ctx) -> str:
    w = c.window()
    if _has(w, _RESULT_CTX[:-1]) or re.search(r"[0-9一二两三四五六七八九十]+(天|秒|分钟|次)", w):
        return KEEP
    return DROP


_CLEAN_RESULT_CTX = ("所有", "彻底", "一次", "秒", "瞬间", "全部", "百分百", "100%", "一抹", "一擦", "一喷",
                     "统统", "通通", "一扫而光", "消失", "不见了", "永久")


def _rule_clean_result(c: _Ctx) -> str:
    """Cleaning claims (去除油污) are normal; only "all/instantly/for good" is a guarantee."""
    return KEEP if _has(c.window(), _CLEAN_RESULT_CTX) else DROP


def _rule_jiawei(c: _Ctx) -> str:
    nxt = c.after[:1]
    return DROP if nxt and nxt in "量米波克调型小妙笑" else KEEP  # 添加微量元素, 加微波炉


_MINOR_OK = ("也可以", "也能", "支持一下", "打赏", "刷礼物", "没关系", "可以买", "能买", "可以下单",
             "能下单", "照样", "账号", "手机", "零花钱不够", "偷偷")
_MINOR_NO = ("禁止", "不得", "不能", "不可以", "请勿", "谢绝", "不允许", "不要", "拒绝", "严禁")


def _rule_minor_buy(c: _Ctx) -> str:
    w = c.window()
    return KEEP if _has(w, _MINOR_OK) and not _has(w, _MINOR_NO) else DROP


def _rule_usage(c: _Ctx) -> str:
    if c.after.startswith(_USAGE_NEXT) or c.prefix.endswith(("建议", "提醒", "注意")):
        return DROP  # 最佳食用期, 最好在饭后, 建议最好...
    return KEEP


def _rule_refund(c: _Ctx) -> str:
    return KEEP if _has(c.window(), _REFUND_CTX) else DROP  # refund tied to efficacy


def _rule_review(c: _Ctx) -> str:
    return KEEP if _has(c.window(), _REVIEW_CTX) else DROP  # 好评 + a reward


def _rule_ling(c: _Ctx) -> str:
    return DROP if c.after[:1] in _LING_NOT else KEEP  # 很灵活, 非常灵敏


def _rule_negation(c: _Ctx) -> str:
    prefix = c.prefix
    if prefix.endswith(_NEGATORS) or _has(prefix[-12:], _WARNINGS):
        return DROP  # 从来不刷单, 谨防私下交易, 不要加任何人微信
    return KEEP


_ENDORSE_NEXT = ("也", "都", "在用", "推荐", "同款", "认可", "指定", "专用", "力荐", "首推",
                 "团队", "研发", "联合", "认证", "背书")
_RIVAL_CTX = ("别家", "其他家", "某", "他们", "别人家", "那家", "品牌", "家的", "隔壁", "同行", "x家")
_FAKE_CTX = ("评价", "评论", "好评", "销量", "数据", "人气", "单量", "粉丝", "点赞", "在线")


def _rule_endorse(c: _Ctx) -> str:
    """医生/护士 as an endorser: followed by 也/都/推荐/在用/同款..."""
    after = c.after
    if after.startswith(_ENDORSE_NEXT) or _has(after[:6], ("推荐", "在用", "同款", "都用", "也用")):
        return KEEP
    return DROP


def _rule_side_effect(c: _Ctx) -> str:
    return KEEP if _has(c.prefix[-6:], ("没", "无", "零", "不会", "不", "杜绝")) else DROP


def _rule_v_face(c: _Ctx) -> str:
    return DROP if c.after.startswith(("脸", "领", "型")) else KEEP  # 小V脸, V领


def _rule_rival(c: _Ctx) -> str:
    return KEEP if _has(c.window(), _RIVAL_CTX) else DROP


def _rule_fake(c: _Ctx) -> str:
    return KEEP if _has(c.window(), _FAKE_CTX) else DROP


def _rule_percent(c: _Ctx) -> str:
    return DROP if _has(c.clause, _FIBRE_CTX) else KEEP


def _rule_superstition(c: _Ctx) -> str:
    return KEEP if _has(c.window(), _SUPERSTITION_CTX) else DROP


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}


def parse_number(s: str) -> int | None:
    """ASCII digits or a simple Chinese numeral below 100 (十四, 二十, 9)."""
    if s.isdigit():
        return int(s)
    if "十" in s:
        a, _, b = s.partition("十")
        tens = _CN_DIGITS.get(a, 1) if a else 1
        ones = _CN_DIGITS.get(b, 0) if b else 0
        return tens * 10 + ones
    if len(s) == 1 and s in _CN_DIGITS:
        return _CN_DIGITS[s]
    return None


def _rule_minor(c: _Ctx) -> str:
    m = re.search(r"[0-9零〇一二两三四五六七八九十]+", c.text[c.start:c.end])
    age = parse_number(m.group(0)) if m else None
    return KEEP if age is not None and age < 16 else DROP


RULES: dict[str, Callable[[_Ctx], str]] = {
    "ordinal": _rule_ordinal,
    "zui": _rule_zui,
    "rank": _rule_rank,
    "usage": _rule_usage,
    "refund": _rule_refund,
    "review": _rule_review,
    "ling": _rule_ling,
    "negation": _rule_negation,
    "brand": _rule_brand,
    "contact": _rule_contact,
    "endorse": _rule_endorse,
    "side_effect": _rule_side_effect,
    "v_face": _rule_v_face,
    "rival": _rule_rival,
    "fake": _rule_fake,
    "contact_strict": _rule_contact_strict,
    "private": _rule_private,
    "disease": _rule_disease,
    "percent": _rule_percent,
    "superstition": _rule_superstition,
    "minor": _rule_minor,
    "minor_buy": _rule_minor_buy,
    "result": _rule_result,
    "clean_result": _rule_clean_result,
    "jiawei": _rule_jiawei,
}

_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# "V：abc123", "vx: lm_2024", "Q：12345678": a contact prefix, a colon, an account id. Runs on
# the original text (normalisation drops the colon that makes this recognisable).
_CONTACT_ID = re.compile(
    r"(?i)(?<![a-z0-9])(?:v|vx|wx|q|qq|wechat|weixin|微信?|薇|威|扣扣?)(?:号)?\s*[:：]\s*"
    r"[a-z0-9][a-z0-9_\-]{4,}")
_CONTACT_ID_TERM = Term("账号：xxx", "导流/私单", BLOCK,
                        "《网络直播营销管理办法（试行）》；平台规则禁止站外导流",
                        "公布站外联系账号，引导站外联系", ("通过平台私信/客服沟通",))
_PHONE_TERM = Term("手机号码", "导流/私单", BLOCK,
                   "《网络直播营销管理办法（试行）》；平台规则禁止站外导流",
                   "在直播中公布手机号码，引导站外联系", ("通过平台私信/客服沟通",))


# --------------------------------------------------------------------------- checker

@dataclass(frozen=True)
class _Entry:
    term: Term
    exemption: Exemption | None = None


@dataclass
class _Cand:
    start: int
    end: int
    entry: _Entry
    severity: str
    note: str = ""


class Checker:
    """A compiled term list plus a team's own terms and exemptions."""

    def __init__(self, terms: Iterable[Term], extra_terms: Iterable[Term | str] = (),
                 exemptions: Iterable[Exemption | tuple[str, str] | str] = ()) -> None:
        merged: dict[tuple[tuple[str, ...], str], Term] = {}
        for t in list(terms) + [_as_term(x) for x in extra_terms]:
            self._validate(t)
            key = (tuple(_tokens(t.term)), ALLOW if t.severity == ALLOW else "")
            merged[key] = t  # later (team) entries override defaults with the same text
        self.terms: tuple[Term, ...] = tuple(merged.values())
        self.exemptions: tuple[Exemption, ...] = tuple(_as_exemption(e) for e in exemptions)
        self._root: dict = {}
        for t in self.terms:
            self._insert(_tokens(t.term), _Entry(t))
        for ex in self.exemptions:
            allow = Term(ex.phrase, ALLOW_CATEGORY, ALLOW, reason=f"团队豁免：{ex.kind}")
            self._insert(list(normalize_term(ex.phrase)), _Entry(allow, ex))

    # -- construction
    @staticmethod
    def _validate(t: Term) -> None:
        if t.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}: {t.term!r} {t.severity!r}")
        if not t.category:
            raise ValueError(f"term without a category: {t.term!r}")
        for name in _rule_names(t):
            if name not in RULES:
                raise ValueError(f"unknown context rule {name!r} for {t.term!r}")
        toks = _tokens(t.term)
        if not toks or toks[0] == _HAN:
            raise ValueError(f"term must start with a character or {{n}}: {t.term!r}")

    def _insert(self, tokens: Sequence[str], entry: _Entry) -> None:
        node = self._root
        for tok in tokens:
            node = node.setdefault(tok, {})
        node.setdefault(_END, []).append(entry)

    @classmethod
    def from_csv(cls, path: Path | str, extra_terms: Iterable[Term | str] = (),
                 exemptions: Iterable[Exemption | tuple[str, str] | str] = ()) -> "Checker":
        return cls(load_terms(path), extra_terms, exemptions)

    @classmethod
    def load_default(cls) -> "Checker":
        """The project's term list (cached; the Checker is immutable once built)."""
        return _default_checker()

    def with_team(self, extra_terms: Iterable[Term | str] = (),
                  exemptions: Iterable[Exemption | tuple[str, str] | str] = ()) -> "Checker":
        """A new checker: this one's terms and exemptions plus a team's own."""
        return Checker(self.terms, extra_terms, list(self.exemptions) + list(exemptions))

    # -- matching
    def _candidates(self, text: str) -> list[tuple[int, int, _Entry]]:
        root = self._root
        root_num = root.get(_NUM)
        out: list[tuple[int, int, _Entry]] = []
        n = len(text)
        walk = self._walk
        prev = ""
        for i, ch in enumerate(text):
            node = root.get(ch)
            if node is not None:
                walk(text, n, i + 1, node, i, out)
            if root_num is not None and ch in NUM_CHARS and prev not in NUM_CHARS:
                j = i + 1
                while j < n and text[j] in NUM_CHARS:
                    j += 1
                walk(text, n, j, root_num, i, out)
            prev = ch
        return out

    def _walk(self, text: str, n: int, i: int, node: dict, start: int,
              out: list[tuple[int, int, _Entry]]) -> None:
        ends = node.get(_END)
        if ends:
            for e in ends:
                out.append((start, i, e))
        if i >= n:
            return
        ch = text[i]
        nxt = node.get(ch)
        if nxt is not None:
            self._walk(text, n, i + 1, nxt, start, out)
        sub = node.get(_NUM)
        if sub is not None and ch in NUM_CHARS:
            j = i + 1
            while j < n and text[j] in NUM_CHARS:
                j += 1
            self._walk(text, n, j, sub, start, out)
        sub = node.get(_HAN)
        if sub is not None and "\u4e00" <= ch <= "\u9fff":
            self._walk(text, n, i + 1, sub, start, out)

    def check(self, text: str) -> CheckResult:
        norm = normalize(text)
        t = norm.text
        raw = self._candidates(t)
        raw.extend((m.start(), m.end(), _Entry(_PHONE_TERM)) for m in _PHONE.finditer(t))
        for m in _CONTACT_ID.finditer(text):
            s0 = bisect.bisect_left(norm.offsets, m.start())
            e0 = bisect.bisect_left(norm.offsets, m.end())
            if s0 < e0:
                raw.append((s0, e0, _Entry(_CONTACT_ID_TERM)))

        allows: list[tuple[int, int, _Entry]] = []
        cands: list[_Cand] = []
        for s, e, entry in raw:
            term = entry.term
            if term.severity == ALLOW:
                allows.append((s, e, entry))
                continue
            if not _ascii_boundary_ok(norm, s, e):
                continue
            cand = _apply_rules(norm, _Cand(s, e, entry, term.severity))
            if cand is not None:
                cands.append(cand)

        allow_index: _Spans[_Entry] = _Spans()
        for s0, e0, entry in allows:
            allow_index.add(s0, e0, entry)
        kept: list[_Cand] = []
        exempted: list[_Cand] = []
        for c in cands:
            cover = allow_index.covering(c.start, c.end)
            if cover is None:
                kept.append(c)
            elif cover.exemption is not None:
                ex = cover.exemption
                c.note = f"已豁免（{ex.kind}：{ex.phrase}）"
                exempted.append(c)
        kept = _resolve_overlaps(kept)

        lines = _LineIndex(text)
        hits = [_to_hit(norm, lines, c) for c in kept]
        hits.sort(key=lambda h: (h.start, -h.end))
        ex_hits = [_to_hit(norm, lines, c) for c in _resolve_overlaps(exempted)]
        n_block = sum(h.severity == BLOCK for h in hits)
        n_warn = len(hits) - n_block
        verdict = Verdict.BLOCK if n_block else Verdict.WARN if n_warn else Verdict.PASS
        by_cat: dict[str, int] = {}
        for h in hits:
            by_cat[h.category] = by_cat.get(h.category, 0) + 1
        return CheckResult(text=text, hits=hits, verdict=verdict,
                           counts={"block": n_block, "warn": n_warn, "total": len(hits)},
                           by_category=by_cat, exempted=ex_hits)


@lru_cache(maxsize=1)
def _default_checker() -> Checker:
    return Checker(load_terms(DATA))


def check(text: str, checker: Checker | None = None) -> CheckResult:
    """Check a script text against ``checker`` (default: the project's term list)."""
    return (checker or Checker.load_default()).check(text)


# --------------------------------------------------------------------------- helpers

def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _ascii_boundary_ok(norm: Normalized, s: int, e: int) -> bool:
    """An ASCII term (vx, qq, top1, 100%) must not sit inside a longer ASCII word/number."""
    t = norm.text
    src = norm.source
    first, last = t[s], t[e - 1]
    if _is_ascii_alnum(first):
        o = norm.offsets[s]
        before = src[o - 1] if o > 0 else ""
        if before and before.isascii() and (before.isalpha() if first.isalpha() else before.isdigit()):
            return False
    if _is_ascii_alnum(last):
        o = norm.offsets[e - 1] + 1
        after = src[o] if o < len(src) else ""
        if after and after.isascii() and (after.isalpha() if last.isalpha() else after.isdigit()):
            return False
    return True


def _rule_names(term: Term) -> list[str]:
    """A term's context rules: the ``rule`` column may name several, joined by ``+``."""
    return [r for r in term.rule.split("+") if r]


_COMPARATIVE = ("最", "第一")


def _apply_rules(norm: Normalized, cand: _Cand) -> _Cand | None:
    t = norm.text
    cs = t.rfind(BREAK, 0, cand.start) + 1
    ce = t.find(BREAK, cand.end)
    ctx = _Ctx(norm, cand.start, cand.end, cs, len(t) if ce < 0 else ce, cand.entry.term)
    term = cand.entry.term
    names = _rule_names(term)
    if term.category in _NEGATABLE and "negation" not in names:
        names.append("negation")
    for name in names:
        action = RULES[name](ctx)
        if action == DROP:
            return None
        if action == DOWNGRADE and cand.severity == BLOCK:
            cand.severity = WARN
            cand.note = "限定时间/范围或品牌内比较，需有依据，降为建议改"
    # same-brand comparison (我们家最好的一款): exempt in law, but unverifiable here -> warn
    if (term.category == "绝对化" and cand.severity == BLOCK
            and _has(t[cand.start:cand.end], _COMPARATIVE) and _scoped(ctx, _BRAND_SCOPE)):
        cand.severity = WARN
        cand.note = "品牌内/本店范围内比较，需有依据，降为建议改"
    return cand


def _prefer(a: _Cand, b: _Cand) -> bool:
    """True if ``a`` should win over ``b`` when two hits are merged."""
    ka = (_RANK[a.severity], a.end - a.start, not a.entry.term.is_pattern)
    kb = (_RANK[b.severity], b.end - b.start, not b.entry.term.is_pattern)
    return ka > kb


def _resolve_overlaps(cands: list[_Cand]) -> list[_Cand]:
    # strongest first: severity, then length, then literal before pattern
    order = sorted(cands, key=lambda c: (-_RANK[c.severity], -(c.end - c.start),
                                         c.entry.term.is_pattern, c.start))
    out: list[_Cand] = []
    index: _Spans[_Cand] = _Spans()
    for c in order:
        # everything kept so far is at least as severe: drop c if it lies inside one of them
        if index.covering(c.start, c.end) is not None:
            continue
        out.append(c)
        index.add(c.start, c.end, c)
    # merge partial overlaps within one category into a single hit
    out.sort(key=lambda c: (c.start, c.end))
    merged: list[_Cand] = []
    for c in out:
        prev = merged[-1] if merged else None
        if prev and c.start < prev.end and c.entry.term.category == prev.entry.term.category:
            winner = prev if _prefer(prev, c) else c
            merged[-1] = replace(winner, start=prev.start, end=max(prev.end, c.end))
        else:
            merged.append(c)
    return merged


T = TypeVar("T")


class _Spans(Generic[T]):
    """Intervals bucketed by start, to find one covering [s, e) without a full scan."""

    def __init__(self) -> None:
        self._by_start: dict[int, list[tuple[int, T]]] = {}
        self._longest = 0

    def add(self, start: int, end: int, item: T) -> None:
        self._by_start.setdefault(start, []).append((end, item))
        self._longest = max(self._longest, end - start)

    def covering(self, start: int, end: int) -> T | None:
        for s in range(start, start - self._longest - 1, -1):
            for e, item in self._by_start.get(s, ()):
                if e >= end:
                    return item
        return None


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def line_text(self, line: int) -> tuple[int, str]:
        a = self.starts[line - 1]
        b = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        return a, self.text[a:b]


CONTEXT_CHARS = 24


def _to_hit(norm: Normalized, lines: _LineIndex, c: _Cand) -> Hit:
    start, end = norm.span(c.start, c.end)
    line = lines.line_of(start)
    a, text = lines.line_text(line)
    lo = max(0, start - a - CONTEXT_CHARS)
    hi = min(len(text), end - a + CONTEXT_CHARS)
    context = ("…" if lo > 0 else "") + text[lo:hi].strip("\r") + ("…" if hi < len(text) else "")
    t = c.entry.term
    return Hit(term=t.term, matched=norm.source[start:end], start=start, end=end, line=line,
               category=t.category, severity=c.severity, basis=t.basis, reason=t.reason,
               suggestions=t.suggestions, context=context, note=c.note)
