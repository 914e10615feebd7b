"""Context rules of the compliance matcher: each looks at a candidate hit in its clause and
neighbouring clauses (normalised text) and keeps it, drops it or downgrades it from block to
warn. A term names its rules in the ``rule`` column of terms.csv (``a+b`` for several); some
rules are applied by category (see ``matcher._apply_rules``).

Rules read only ``_Ctx.text`` (and positions in it), so the matcher can run them on a view in
which a sound-alike (``蕞好用``, ``zui hao yong``) has been replaced by the term it stands for.
"""
from __future__ import annotations

from dataclasses import dataclass
import re
from typing import TYPE_CHECKING, Callable, Iterable

from bot.compliance.normalize import BREAK
from bot.numerals import CN_NUMBER_CHARS, cn_int

if TYPE_CHECKING:
    from bot.compliance.terms import Term

NUM_CHARS = frozenset("0123456789" + CN_NUMBER_CHARS + "万")


class TextView:
    """A normalised text (``.text``) the rules can read: a ``Normalized`` or a patched copy."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


@dataclass(frozen=True)
class _Ctx:
    norm: TextView  # or a Normalized: only .text is read
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


def _rule_minor(c: _Ctx) -> str:
    m = re.search(rf"[0-9{CN_NUMBER_CHARS}]+", c.text[c.start:c.end])
    age = cn_int(m.group(0)) if m else None
    return KEEP if age is not None and age < 16 else DROP


# -- negated absolutes ("不是最便宜的") and absolutes by negation ("没有比这更好的")

# A denial right before an absolute term: 不是/并非/不算/没有 (+ a filler word) 最便宜的 ...
_ABS_DENIAL = re.compile(r"(?:不是|并非|不算|算不上|称不上|谈不上|没有|没|未必是|不一定是|不能说是?|不敢说是?)"
                         r"(?:什么|所谓的?|那种|这种|一个|一款|说|真的)?"
                         r"(?:全网|全国|全球|全平台|市面上?|行业|同类|今天|这次)?$")  # 并非[全网]最低价
# ... unless the sentence turns it back into a claim: a question (难道不是最好的吗), "没有最低
#只有更低", or a guarantee tied to it (不是全网最低价就退差价).
_QUESTION = ("难道", "岂不", "岂非", "谁说")
_CLAIM_BACK = ("只有更", "退", "赔", "补差", "差价", "返还", "双倍")
# The absolute claim made by a negation: 没有比这更好的, 找不到比它更便宜的, 再也没有比这还低的价了.
NEGATED_COMPARISON = re.compile(
    r"(?:没有|没|找不到|买不到|挑不出|不会有|不可能有)"
    r"(?:任何|哪一?[款个家件种样]|一[款个家件种样]|别的|其他的?|第二[款个家件种样]?)?"
    r"[^\n比]{0,6}比[^\n]{1,12}?(?:更|还要?)[^\n]{1,8}?(?:的|了)")


_DENIAL_LAST = frozenset("是非算上没有说么谓的种个款真网国球台面业类天次")


def _rule_negated_absolute(c: _Ctx) -> str:
    """Applied by the matcher to every 绝对化/价格违规 term: "不是最便宜的" denies the claim."""
    t = c.norm.text
    if c.start <= c.clause_start or t[c.start - 1] not in _DENIAL_LAST or not _ABS_DENIAL.search(c.prefix):
        return KEEP
    after = c.after
    if "吗" in after or after.endswith(("么", "嘛")) or _has(c.prefix, _QUESTION):
        return KEEP
    if _has(c.window(), _CLAIM_BACK):
        return KEEP
    return DROP


# -- private deals: "扣1我私你，给你返现"

# What makes "我私你" an off-platform deal rather than the shop's service messaging a buyer.
_LURE_CTX = ("返", "红包", "便宜", "优惠", "福利", "价", "下单", "拍", "转账", "发货", "买", "券", "现金",
             "钱", "内部", "名额")
# What makes a cash-back private (a platform's own 满减返现 is not).
_PRIVATE_MARKERS = ("私", "单独", "微信", "转账", "红包", "找我", "加我", "不走平台", "线下", "偷偷", "悄悄")
_COMMENT_CODE = re.compile(r"扣[0-9一二三]")
_DENY_PRIVATE = ("不会", "没有", "不能", "不") + _WARNINGS


def _rule_lure(c: _Ctx) -> str:
    """私你/私发你: the streamer contacting a buyer privately, with a deal in the sentence."""
    if "客服" in c.prefix or c.prefix.endswith(_NEGATORS) or _has(c.prefix[-12:], _WARNINGS):
        return DROP
    w = c.window()
    return KEEP if _has(w, _LURE_CTX) or _COMMENT_CODE.search(w) else DROP


def _rule_private_cash(c: _Ctx) -> str:
    """返现 arranged privately (私下/单独/微信/扣1), not a platform promotion."""
    if _has(c.prefix[-8:], _DENY_PRIVATE):
        return DROP
    w = c.window()
    return KEEP if _has(w, _PRIVATE_MARKERS) or _COMMENT_CODE.search(w) else DROP


# -- a sound-alike word for a contact channel (加卫星下单): the contact verb must touch it

_CONTACT_BEFORE = ("加", "私", "搜", "扫", "找我", "联系", "留", "关注")
_CONTACT_AFTER = ("号", "联系", "聊", "私聊", "上聊", "上找", "找我", "私我", "转账", "下单", "发我", "发你",
                  "加我", "搜")


def _rule_contact_adjacent(c: _Ctx) -> str:
    """For loose sound-alikes only (see phonetic.py): "加卫星" or "卫星号", not 卫星 with a
    加购物车 somewhere in the sentence."""
    if c.prefix.endswith(_CONTACT_BEFORE) or c.after.startswith(_CONTACT_AFTER):
        return KEEP
    return DROP


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
    "negated_absolute": _rule_negated_absolute,
    "lure": _rule_lure,
    "private_cash": _rule_private_cash,
    "contact_adjacent": _rule_contact_adjacent,
}
