"""Decide whether a free-text @mention reports an equipment or platform fault.

Pure rules, no model. A message is normalised (NFKC, lower case, @mentions and image
markers removed, common IME typos fixed), "healthy" phrases such as 推流没断 / 声音正常 are
masked, and then evidence is collected per category:

* a *specific* phrase is a symptom that names its category on its own (断流, 掉帧, 限流,
  没声音, 虚焦, 挂错 …), each with a weight;
* a *generic* symptom (坏了, 断了, 黑屏, 没反应, crash, not working …) counts only when an
  equipment *object* (摄像头, 补光灯, OBS, 麦克风 …) stands near it; it is credited to the
  nearest object, preferring one that comes before it, within ``PAIR_WINDOW`` characters.
  Some symptoms only fit some objects (a stream does not "crash", software does; "设置成"
  only describes a listing). A weak object (画面) loses to a strong one a few characters
  further, and a bare room ("1号间断了") counts as the stream only when nothing else is near.

The category with the highest score wins (ties: the one mentioned first). It is a fault
when that score reaches ``FAULT_THRESHOLD`` and no *gate* applies. Gates, in order:

1. command   – the message starts with a bot command word written without the slash
               (帮助, 排期 本周, 复盘 …);
2. hypothetical – 如果 / 万一 / 避免 / in case …;
3. past      – 昨天 / 上次 / 上周 / yesterday … with no present marker (又, 还, 现在, 今天,
               刚才, again, still, now): a question or remark about a past fault is not a
               new fault;
4. question  – an information question (几点, 谁, 哪, 多少, 怎么设置, what time …) or a
               yes/no question (…吗, …了没, ending in ?) – except the complaint form
               (怎么/为什么 + symptom: "怎么没声音了"), the suspicion form (是不是被限流了)
               and the help form (OBS崩了怎么办), which are reports;
5. resolved  – a recovery marker (恢复了, 已经好了, 正常了, fixed …) with no symptom after it;
6. negation  – only masked healthy phrases remain (推流没断, 网络不卡了, 没有违规).
"""
from __future__ import annotations

from typing import Callable

from dataclasses import dataclass, field
from enum import StrEnum
import re
import unicodedata


class Category(StrEnum):
    STREAM_DOWN = "stream_down"
    SANCTION = "sanction"
    NETWORK = "network"
    ENCODER = "encoder"
    AUDIO = "audio"
    CAMERA = "camera"
    PRICE_STOCK = "price_stock"
    LIGHTING = "lighting"
    OTHER = "other"


class Severity(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


CATEGORY_LABELS: dict[str, dict[Category, str]] = {
    "zh_CN": {
        Category.STREAM_DOWN: "推流中断/断流",
        Category.SANCTION: "平台违规/限流/封禁",
        Category.NETWORK: "网络卡顿/延迟/掉帧",
        Category.ENCODER: "编码/推流软件(OBS/直播伴侣)",
        Category.AUDIO: "声音/麦克风/声卡",
        Category.CAMERA: "摄像头/采集卡",
        Category.PRICE_STOCK: "价格/库存/链接错误",
        Category.LIGHTING: "灯光/补光灯",
        Category.OTHER: "其他设备故障",
    },
    "en_US": {
        Category.STREAM_DOWN: "Stream down",
        Category.SANCTION: "Platform violation / throttling / ban",
        Category.NETWORK: "Network lag / latency / dropped frames",
        Category.ENCODER: "Encoder / streaming software (OBS, 直播伴侣)",
        Category.AUDIO: "Audio / microphone / sound card",
        Category.CAMERA: "Camera / capture card",
        Category.PRICE_STOCK: "Price / stock / listing error",
        Category.LIGHTING: "Lighting / fill light",
        Category.OTHER: "Other equipment fault",
    },
}

# P0 stops sales or risks the account; P1 degrades the stream; P2 is visible but the
# stream goes on. "other" (提词器, 空调, 云台, a PC …) is P2: unknown kit in a live room is
# worth a technician's look, and P3 would hide it behind routine tasks.
DEFAULT_SEVERITY: dict[Category, Severity] = {
    Category.STREAM_DOWN: Severity.P0,
    Category.SANCTION: Severity.P0,
    Category.NETWORK: Severity.P1,
    Category.ENCODER: Severity.P1,
    Category.AUDIO: Severity.P1,
    Category.CAMERA: Severity.P1,
    Category.PRICE_STOCK: Severity.P1,
    Category.LIGHTING: Severity.P2,
    Category.OTHER: Severity.P2,
}

_SEVERITY_ORDER = [Severity.P0, Severity.P1, Severity.P2, Severity.P3]


def category_label(category: Category, locale: str = "zh_CN") -> str:
    return CATEGORY_LABELS.get(locale, CATEGORY_LABELS["zh_CN"])[category]


def raise_severity(
    severity: Severity | str, live_now: bool, starts_within_2h: bool
) -> Severity:
    """Raise by exactly one level (P3→P2, P2→P1, P1→P0) when the room is live now or its
    next stream starts within 2 hours; both being true still raises one level only.
    P0 stays P0; with neither flag the severity is returned unchanged."""
    sev = Severity(severity)
    if not (live_now or starts_within_2h):
        return sev
    index = _SEVERITY_ORDER.index(sev)
    return _SEVERITY_ORDER[max(0, index - 1)]


@dataclass(frozen=True)
class Classification:
    """The verdict on one message.

    ``confidence`` (0..1) is confidence in the verdict itself: for a fault it grows with the
    winning score and shrinks when another category scored close; for a non-fault it is
    0.9 with no symptom at all, 0.8–0.85 when a gate or a negation overrode a symptom, and
    lower when a symptom was seen but too weak. ``category`` and ``severity`` are None for
    non-faults; ``reasons`` (判定依据, Chinese) and ``keywords`` are filled either way.
    ``scores`` maps each category with evidence to its score, for debugging.
    """

    is_fault: bool
    category: Category | None
    confidence: float
    severity: Severity | None
    reasons: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    has_image: bool = False

    @property
    def label(self) -> str:
        return category_label(self.category) if self.category else ""


# ---------------------------------------------------------------- normalisation

# Frequent IME homophone typos seen in ops chats. Applied after lower-casing.
TYPOS: dict[str, str] = {
    "0bs": "obs",
    "掉桢": "掉帧",
    "丢桢": "丢帧",
    "摄相头": "摄像头",
    "摄象头": "摄像头",
    "设像头": "摄像头",
    "麦克疯": "麦克风",
    "麦克峰": "麦克风",
    "卡屯": "卡顿",
    "卡吨": "卡顿",
    "推留": "推流",
    "断留": "断流",
    "断勒": "断了",
    "伴旅": "伴侣",
    "补光登": "补光灯",
    "黑平": "黑屏",
    "直拨间": "直播间",
    "没声因": "没声音",
    "声卡坏勒": "声卡坏了",
    "限留": "限流",
}

_MENTION = re.compile(r"@_user_\d+|@[a-z][\w\-]*")
_IMAGE = re.compile(r"\[(?:image|图片|img|photo|截图)\]")


def normalise(text: str) -> tuple[str, bool]:
    """Return the text ready for matching and whether an image marker was present."""
    t = unicodedata.normalize("NFKC", text).lower()
    has_image = bool(_IMAGE.search(t))
    t = _IMAGE.sub(" ", t)
    t = _MENTION.sub(" ", t)
    for wrong, right in TYPOS.items():
        t = t.replace(wrong, right)
    t = re.sub(r"\s+", " ", t).strip()
    return t, has_image


# ---------------------------------------------------------------- rule tables

Rules = list[tuple[str, float]]

# Phrases that are a symptom of their category on their own: (regex, weight).
SPECIFIC: dict[Category, Rules] = {
    Category.STREAM_DOWN: [
        (r"断流", 3),
        (r"推流(?:中断|断|失败|异常|掉了|挂)", 3),
        (r"推不上去?|推不出去?|推不了流|(?:无法|不能|没法)(?:正常)?推流", 3),
        (r"直播(?:中断|断了|掉线|挂了)", 3),
        (r"播不出去?|播不了|(?:自动|意外|突然|莫名)(?:下播|关播|结束)|直播自己结束", 3),
        (r"\bended (?:by itself|unexpectedly|on its own)\b", 3),
        (r"黑屏", 2),
        (r"(?:连接|连不上)服务器|服务器(?:连不上|连接失败)|一直重连", 2),
        (r"(?:观众|用户|粉丝)[^，。,!！]{0,4}(?:看不到|看不了|进不来|进不去|刷不到)", 2),
        (r"直播间(?:进不去|进不来|打不开)", 2),
        (r"看不到(?:画面|直播)", 2),
        (r"\b1935\b", 1),
        (r"\bstream(?: is| has| just)? (?:down|dropped|offline|cut out|died)", 3),
        (r"\b(?:went|is|gone) offline\b|\bviewers (?:see nothing|can'?t see)", 3),
    ],
    Category.SANCTION: [
        (r"(?:违规|违禁)(?!词|清单|库|表|名单)", 3),
        (r"违规词|违禁词", 1),
        (r"涉嫌|刷单|违反|社区规范|站内信|低俗|色情|虚假宣传|虚假广告|夸大宣传|私下交易|引导站外", 2),
        (r"(?:系统|平台)(?:说|提示|判定|通知)", 1),
        (r"限流|(?:流量)?被压|压流", 3),
        (r"封禁|封号|被封|封了(?!面)|封播|禁播", 3),
        (r"断播|强制(?:下播|关播|停播)", 3),
        (r"扣分|处罚|罚款", 3),
        (r"警告", 2),
        (r"巡管|整改", 2),
        (r"(?:直播|开播|带货)权限", 3),
        (r"\bflagged\b|\bfalse advertising\b|\bcommunity guidelines\b|\bviolation|\bbanned\b|\bshadow ?ban|\bsuspended\b|\bstrike\b", 3),
        (r"\bwarning\b", 2),
        (r"\bthrottl", 3),
    ],
    Category.NETWORK: [
        (r"卡顿|掉帧|丢帧|丢包", 3),
        (r"(?:好|很|太|超|巨|特别|有点|都|说|又|老|一直|非常)卡(?![点券片号位包住])", 2),
        (r"(?<!采集)(?<!信用)卡(?:成|得|卡)|一卡一卡", 2),
        (r"网卡了|网好卡|网络卡|网络(?:波动|不稳)|不稳定", 3),
        (r"延迟(?:好|很|太|特别|超)?(?:高|大|严重)|高延迟|有延迟", 2),
        (r"推不动|断网|没网|网断|网速慢|网速太慢|网太慢|缓冲", 3),
        (r"转圈|马赛克", 2),
        (r"ping值?\s*(?:飙|高|到|\d{3})", 2),
        (r"画面(?:卡|冻|定住|不动)", 2),
        (r"卡死", 1),
        (r"\bunstable\b|\bchoppy\b|\bstutter|\blagg?(?:ing|y)?\b|\bdropped frames\b|\bframe ?drops?\b|\bpacket loss\b", 3),
        (r"\b(?:high )?latency\b|\bbuffering\b|\bhigh ping\b", 2),
    ],
    Category.ENCODER: [
        (r"编码(?:器)?(?:过载|错误|报错|出错)|encoding overload|encoder error", 3),
        (r"闪退|未响应|无响应", 3),
        (r"cpu\s*(?:占用|使用率)?\s*(?:100|爆|满|过高|很高)", 2),
        (r"\bnot responding\b", 3),
    ],
    Category.AUDIO: [
        (r"没声|没有声音|无声|静音|声音没了", 3),
        (r"沙沙|嗡嗡|忽大忽小|时有时无|杂音|电流声|噪音|底噪|回声|回音|啸叫|爆音|破音|吱吱|滋滋", 3),
        (r"听不到|听不见|听不清", 3),
        (r"音画不同步|声画不同步|音画不一致", 3),
        (r"声音(?:特别|很|太|好)?小", 2),
        (r"\bno (?:sound|audio)\b|\bmuted\b|\becho\b|\bcan'?t hear\b|\bout of sync\b", 3),
        (r"\bcrackl|\bbuzz", 2),
    ],
    Category.CAMERA: [
        (r"虚焦|失焦|跑焦|对不上焦|对焦不", 3),
        (r"画面(?:糊|模糊|虚|花|倒|反)", 3),
        (r"绿屏|花屏", 1),
        (r"发紫|发绿|白平衡|出画", 2),
        (r"(?:内存|存储|sd)卡(?:已)?满|停止录制", 3),
        (r"\b(?:losing|lost|out of) focus\b|\bblurry\b", 3),
    ],
    Category.PRICE_STOCK: [
        (r"(?:挂|标|设置|设|选|填|上|写|配|改)错", 3),
        (r"挂成", 2),
        (r"(?:价格|价钱|标价|售价)(?:不对|错)", 3),
        (r"超卖|卖超", 3),
        (r"库存[^，。,]{0,6}(?:显示|是|为|变成)\s*(?:0|零|负)", 3),
        (r"下不了单|拍不了|付不了款|付款失败|买不了", 3),
        (r"领不了|用不了券|券用不了", 2),
        (r"亏死|亏本|亏钱|亏大了", 1),
        (r"(?:少|多)了?(?:个|一个)0", 3),
        (r"\bwrong price\b|\bprice is wrong\b|\bcan'?t buy\b|\bcannot buy\b", 3),
    ],
    Category.LIGHTING: [
        (r"(?:太|好|很|偏|有点)暗|画面暗", 2),
        (r"频闪", 2),
        (r"色温|偏黄|偏蓝|偏色|过曝", 2),
        (r"灯泡爆|灯管爆|灯爆", 3),
        (r"\bflicker", 1),
    ],
    Category.OTHER: [
        (r"停电|断电|跳闸", 3),
        (r"死机|蓝屏", 3),
        (r"冒烟|着火|烧焦", 3),
        (r"设备(?:故障|出问题|坏)|出故障", 2),
        (r"\bpower (?:outage|cut|went out|is out)\b|\bblue screen\b", 3),
    ],
}

# Equipment objects: (regex, strength). A weak object (画面, 信号) can be outranked.
OBJECTS: dict[Category, Rules] = {
    Category.STREAM_DOWN: [
        (r"推流|直播间|直播|流(?!量|程|水|行|畅|利)|信号", 1.0),
        (r"画面", 0.6),
        (r"\bstream\b|\blive\b", 1.0),
    ],
    Category.SANCTION: [
        (r"账号|平台|巡管|抖音|快手", 0.8),
        (r"\baccount\b|\bplatform\b|\bdouyin\b|\bkuaishou\b", 0.8),
    ],
    Category.NETWORK: [
        (r"网络|网速|网线|网卡|网(?!红|店|友|页|站|购)|wi-?fi|宽带|路由器|路由|带宽|上行|热点|4g|5g", 1.0),
        (r"\bnetwork\b|\binternet\b|\brouter\b|\bconnection\b", 1.0),
    ],
    Category.ENCODER: [
        (r"obs|直播伴侣|伴侣|推流软件|推流工具|直播姬|编码器|编码|软件|客户端|x264|nvenc|场景|(?<![货来资能])源", 1.0),
        (r"\bscenes?\b|\bencoder\b|\bsoftware\b", 1.0),
    ],
    Category.AUDIO: [
        (r"声音|声卡|音频|麦克风|麦|话筒|耳麦|耳返|音响|音箱|背景音乐|bgm|伴奏|音量|声", 1.0),
        (r"\bsound\b|\baudio\b|\bmic\b|\bmicrophone\b|\bheadset\b", 1.0),
    ],
    Category.CAMERA: [
        (r"摄像头|摄像机|镜头|相机|采集卡|机位|hdmi", 1.0),
        (r"\bcamera\b|\bwebcam\b|\bcam\b|\bcapture card\b|\blens\b", 1.0),
    ],
    Category.PRICE_STOCK: [
        (r"价格|价钱|秒杀价|到手价|福利价|原价|价|库存|链接|小黄车|购物车|商品|规格|sku|优惠券|券|赠品|秒杀", 1.0),
        (r"\bprice\b|\bstock\b|\binventory\b|\bcart\b|\blink\b|\bcoupon\b|\blisting\b", 1.0),
    ],
    Category.LIGHTING: [
        (r"补光灯|环形灯|主灯|顶灯|轮廓灯|背景灯|柔光箱|柔光灯|灯泡|灯管|灯光|led|灯(?!牌)", 1.0),
        (r"\b(?:key |fill |ring )?lights?\b|\blamp\b", 1.0),
    ],
    Category.OTHER: [
        (r"提词器|电脑|主机(?!位)|笔记本|手机|平板|ipad|电源|插座|插线板|排插|空调|显示器|大屏|屏幕|云台|稳定器|支架|三脚架|打印机|绿幕|充电器|设备", 1.0),
        (r"\bpower\b|\bteleprompter\b|\bcomputer\b|\bpc\b|\blaptop\b|\bphone\b|\bmonitor\b|\btripod\b|\bgimbal\b", 1.0),
    ],
}

# Symptoms that need an object to tell the category: (regex, categories it may pair with
# or None for any, categories it never pairs with). A stream does not "crash" (software
# does), and "设置成 …" / "wrong" only describe a listing.
_ANY: frozenset[Category] | None = None
_NONE: frozenset[Category] = frozenset()
_C = Category
GENERIC_SYMPTOMS: list[tuple[str, frozenset[Category] | None, frozenset[Category]]] = [
    (r"(?<!人气)(?<!流量)(?<!销量)(?<!单量)(?<!评论)(?<!弹幕)炸了", _ANY, _NONE),
    (r"不(?:太)?正常|(?:还)?没(?:有)?恢复|未恢复|还没好|没修好|恢复不了", _ANY, _NONE),
    (r"坏了|坏掉|损坏|挂了|寄了|凉了|罢工|失灵|故障|出问题|有问题|异常|报错|提示错误|不行了?|歪了|倒了|塌了", _ANY, _NONE),
    (r"崩了|崩溃|崩|卡死|白屏|登不上|登录不了|登不进|启动不了|无法启动", _ANY,
     frozenset({_C.STREAM_DOWN})),
    (r"断了|断开|中断|掉线|(?:老是|一直|总是|经常|又)断|断断续续|掉了|掉下来|丢了|不见了|消失|没了|停了|停在|定格|不动了?|卡住",
     _ANY, _NONE),
    (r"黑了|一片黑|全黑|黑屏|花屏|绿屏|没画面|无画面|没信号|无信号|不显示|黑点|脏了|起雾", _ANY, _NONE),
    (r"闪一下|一闪一闪|一直闪|闪烁|闪个不停|忽明忽暗|忽亮忽暗", _ANY, _NONE),
    (r"不亮|灭了|烧了|不响|放不出|不转|没反应|不工作|不能用|用不了|打不开|开不了机?|连不上|进不去|进不来", _ANY, _NONE),
    (r"识别不到|检测不到|读不到|没电|过热|发烫|关机|重启|松了|松动|接触不良|倒过来|颠倒|碎了|裂了|进水", _ANY, _NONE),
    (r"错了|不对|错误|对不上|没生效|不生效|没同步|没设置上?|失效", _ANY, _NONE),
    (r"没改过来|改不过来|改不了|(?:挂|设置|设|写|标|填|改)(?:成|少|多|低|高)了?|\b(?:isn'?t|not|doesn'?t|won'?t) apply", frozenset({_C.PRICE_STOCK}), _NONE),
    (r"(?:很|太|特别|有点)?(?:弱|差)(?!评|价|不多|点)", frozenset({_C.NETWORK}), _NONE),
    (r"\bnot working\b|\bdoesn'?t work\b|\bisn'?t working\b|\bwon'?t (?:work|start|turn on)\b|\bnot turning on\b",
     _ANY, _NONE),
    (r"\bbroken\b|\bdead\b|\bdied\b|\bdown\b|\bstuck\b|\bcut(?:ting|s)? out\b|\bwent out\b|\bdisconnect|\bturn(?:s|ing)? off\b|\bcollapsed\b|\bfell (?:over|down)\b", _ANY, _NONE),
    (r"\bcrash(?:ed|es|ing)?\b|\bfroze(?:n)?\b|\bfreez", _ANY, frozenset({_C.STREAM_DOWN})),
    (r"\bfailed\b|\b(?:isn'?t|not) detected\b|\bblack screen\b|\bno signal\b|\bdropping\b|\bdropped\b|\bflickering\b|\boffline\b",
     _ANY, _NONE),
    (r"\bwrong\b", frozenset({_C.PRICE_STOCK}), _NONE),
]

# Healthy phrases, masked before any symptom is looked for.
HEALTHY: list[str] = [
    r"(?:没有|没|未|(?<!是)不是|并非|并没有|(?<!是)不)(?:再)?(?:断|卡|掉帧|掉线|延迟|违规|限流|被封|崩|闪退|黑屏|报错|问题|故障)",
    r"(?<!不)(?<!无法)(?<!没法)(?<!不能)(?<!未能)(?<!非)(?<!没有)正常",
    r"(?<!不)稳定",
    r"没事|没毛病|挺好|误报",
    r"有(?:声音|画面|信号)了",
    r"\bnot (?:down|lagging|broken)\b|\bno (?:issues?|problems?)\b|\bis fine\b|\ball good\b",
    r"(?<!n't )(?<!not )\bworks\b",
]

RESOLVED: list[str] = [
    r"(?<![不没未])(?:恢复|修好|解决|搞定|处理好|换好|改好|弄好|好)了",
    r"已(?:经)?(?:恢复|解决|修复|修好|处理|改|换)",
    r"正常了|能用了|有(?:声音|画面|信号)了",
    r"\bback (?:up|online|on)\b|\bworks now\b|\bworking (?:now|again)\b|\bfixed\b|\bresolved\b|\ball good\b",
]
RECURRENCE = r"又|再次|还是|\bagain\b|\bstill\b"

HYPOTHETICAL = r"如果|万一|要是|假如|假设|以防|防止|避免|预防|以免|\bin case\b|\bwhat if\b|\bif\b"
PAST = r"昨天|昨晚|昨日|前天|上次|上回|上周|上星期|上个月|那次|那天|前几天|\byesterday\b|\blast (?:time|night|week)\b"
PRESENT = r"又|还|现在|今天|刚刚|刚才|目前|\bagain\b|\bstill\b|\bnow\b|\btoday\b"
INFO_QUESTION = (
    r"几点|什么时候|啥时候|哪天|哪个|哪些|哪里|哪儿|在哪|放哪|谁(?!能|来|帮|有空)|多少|几个|几台|"
    r"要不要|需不需要|算不算|型号|怎么(?:设置|配置|调|装|安装|用|操作|接|开启|选|买|避免|预防)|如何|怎样|"
    r"一般|通常|平时|^(?:what|when|who|where|which|how|did|do|does|should|can|could|is|are)\b"
)
YESNO_QUESTION = r"吗|了没有?\s*[?？]?$|[?？]\s*$"
COMPLAINT = r"怎么|咋|为什么|为啥|\bwhy\b"
SUSPICION = r"是不是|是否|好像|感觉|怀疑"
HELP = r"怎么办|咋办|咋整|怎么整|咋弄|怎么弄|怎么处理|\bwhat do (?:i|we) do\b|\bneed help\b"

FAULT_THRESHOLD = 2.0
GENERIC_WEIGHT = 2.5
PAIR_WINDOW = 20  # characters between an object and a generic symptom
WEAK_PENALTY = 10  # extra characters charged to an object of strength 0
FOLLOW_PENALTY = 3  # an object after the symptom counts as this many characters further


# ---------------------------------------------------------------- matching

@dataclass(frozen=True)
class _Hit:
    category: Category
    start: int
    end: int
    weight: float
    words: tuple[str, ...]
    fallback: bool = False


def _compile(rules: Rules) -> list[tuple[re.Pattern[str], float]]:
    return [(re.compile(p), w) for p, w in rules]


# A bare room ("1号间断了", "room 3 is down") is the stream itself, but only when no
# equipment object is near the symptom.
_ROOM_OBJECT = re.compile(r"(?<=[\d一二三四五六七八九十])\s*号间|\broom\s*\d{1,2}\b")
ROOM_STRENGTH = 0.8

_SPECIFIC = {c: _compile(r) for c, r in SPECIFIC.items()}
_OBJECTS = {c: _compile(r) for c, r in OBJECTS.items()}
_GENERIC = [(re.compile(p), only, never) for p, only, never in GENERIC_SYMPTOMS]
_HEALTHY = [re.compile(p) for p in HEALTHY]
_RESOLVED = [re.compile(p) for p in RESOLVED]


def _mask(text: str) -> tuple[str, list[str]]:
    """Blank out healthy phrases (keeping offsets) and return what was blanked."""
    found: list[str] = []
    chars = list(text)
    for pattern in _HEALTHY:
        for m in pattern.finditer(text):
            found.append(m.group(0))
            for i in range(m.start(), m.end()):
                chars[i] = "\u3000"
    return "".join(chars), found


def _objects(text: str) -> list[_Hit]:
    """All object mentions; an object inside a longer one is dropped (直播伴侣 ⊃ 直播)."""
    raw: list[_Hit] = []
    for cat, rules in _OBJECTS.items():
        for pattern, strength in rules:
            for m in pattern.finditer(text):
                raw.append(_Hit(cat, m.start(), m.end(), strength, (m.group(0),)))
    for m in _ROOM_OBJECT.finditer(text):
        raw.append(_Hit(Category.STREAM_DOWN, m.start(), m.end(), ROOM_STRENGTH, (m.group(0),), True))
    raw.sort(key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[_Hit] = []
    for hit in raw:
        if any(hit.start < k.end and k.start < hit.end for k in kept):
            continue
        kept.append(hit)
    return kept


def _specific(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for cat, rules in _SPECIFIC.items():
        for pattern, weight in rules:
            m = pattern.search(text)
            if m:
                hits.append(_Hit(cat, m.start(), m.end(), weight, (m.group(0),)))
    return hits


def _pairs(text: str, objects: list[_Hit]) -> list[_Hit]:
    hits: list[_Hit] = []
    seen: set[tuple[Category, str, str]] = set()
    for pattern, only, never in _GENERIC:
        for m in pattern.finditer(text):
            best: tuple[float, _Hit] | None = None
            for obj in objects:
                if obj.category in never or (only is not None and obj.category not in only):
                    continue
                if obj.end <= m.start():
                    distance = m.start() - obj.end
                elif obj.start >= m.end():
                    distance = obj.start - m.end() + FOLLOW_PENALTY
                else:
                    continue
                if distance > PAIR_WINDOW:
                    continue
                # a weak object (画面, a room) loses to a strong one a few characters further
                distance += WEAK_PENALTY * (1.0 - obj.weight)
                if obj.fallback:
                    distance += PAIR_WINDOW
                if best is None or distance < best[0]:
                    best = (distance, obj)
            if best is None:
                continue
            obj = best[1]
            key = (obj.category, obj.words[0], m.group(0))
            if key in seen:
                continue
            seen.add(key)
            hits.append(
                _Hit(
                    obj.category,
                    min(obj.start, m.start()),
                    max(obj.end, m.end()),
                    GENERIC_WEIGHT * obj.weight,
                    (obj.words[0], m.group(0)),
                )
            )
    return hits


def _scores(hits: list[_Hit]) -> dict[Category, float]:
    scores: dict[Category, float] = {}
    for hit in hits:
        scores[hit.category] = scores.get(hit.category, 0.0) + hit.weight
    return scores


def _first_position(hits: list[_Hit], category: Category) -> int:
    return min(h.start for h in hits if h.category == category)


def _keyword_reason(hits: list[_Hit], category: Category, verdict: bool) -> str:
    words: list[str] = []
    for hit in sorted(hits, key=lambda h: h.start):
        if hit.category != category:
            continue
        for w in hit.words:
            w = w.strip()
            if w and w not in words:
                words.append(w)
    quoted = "".join(f"「{w}」" for w in words)
    if verdict:
        return f"命中关键词{quoted} → {category_label(category)}"
    return f"提到{quoted}（像「{category_label(category)}」）"


def written_as_command(text: str) -> bool:
    """The command registry's view (bot.commands.registry): "排期 本周" is a command written
    without the slash; "room 2 stream just went down" is not, although "room" is a command's
    name, because the rest does not parse as that command."""
    from bot.commands.registry import REGISTRY

    return REGISTRY.parses_as_command(text)


def reads_as_fault(text: str) -> bool:
    """For a command's ``accepts``: "@LiveOps 检查 the mic in room 1, no sound" is a fault report."""
    return classify(text).is_fault


def _gate(text: str, hits: list[_Hit], is_command: Callable[[str], bool]) -> str | None:
    """The reason this message is not a new fault report, or None."""
    if is_command(text):
        return "以命令词开头（未加斜杠的命令），按命令处理，不是故障报告"
    if m := re.search(HYPOTHETICAL, text):
        return f"假设/预防语气（「{m.group(0)}」），不是正在发生的故障"
    past = re.search(PAST, text)
    if past and not re.search(PRESENT, text):
        return f"提到过去的时间（「{past.group(0)}」），是在谈旧故障，不是新故障"
    info = re.search(INFO_QUESTION, text)
    if info:
        return f"询问信息（「{info.group(0).strip()}」），不是故障报告"
    yesno = re.search(YESNO_QUESTION, text)
    if yesno and not (
        re.search(COMPLAINT, text) or re.search(SUSPICION, text) or re.search(HELP, text)
    ):
        return "是非疑问句，是在询问状态，不是故障报告"
    last_resolved = -1
    resolved_word = ""
    for pattern in _RESOLVED:
        for m in pattern.finditer(text):
            if m.end() > last_resolved:
                last_resolved, resolved_word = m.end(), m.group(0)
    if last_resolved >= 0:
        later = [h for h in hits if h.start >= last_resolved]
        if not later and not re.search(RECURRENCE, text[last_resolved:]):
            return f"已恢复（「{resolved_word}」），不是待处理的故障"
    return None


def classify(text: str, *, is_command: Callable[[str], bool] | None = None) -> Classification:
    """Classify one @mention. Same text, same answer (for the same declared commands: whether
    it is a command written without the slash is the registry's call, ``written_as_command``)."""
    norm, has_image = normalise(text)
    masked, healthy = _mask(norm)
    objects = _objects(masked)
    hits = _specific(masked) + _pairs(masked, objects)
    scores = _scores(hits)
    score_view = {str(c): round(s, 2) for c, s in sorted(scores.items(), key=lambda kv: -kv[1])}
    keywords: list[str] = []
    for hit in sorted(hits, key=lambda h: h.start):
        for w in hit.words:
            if w.strip() and w.strip() not in keywords:
                keywords.append(w.strip())

    best: Category | None = None
    if scores:
        best = max(scores, key=lambda c: (scores[c], -_first_position(hits, c)))
    best_score = scores[best] if best else 0.0

    gate = _gate(norm, hits, is_command or written_as_command)
    verdict = gate is None and best is not None and best_score >= FAULT_THRESHOLD
    reasons: list[str] = []
    if best is not None:
        reasons.append(_keyword_reason(hits, best, verdict))
    if gate:
        reasons.append(gate)
        return Classification(False, None, 0.8 if best else 0.9, None, reasons, keywords, score_view, has_image)
    if best is None or best_score < FAULT_THRESHOLD:
        if healthy:
            reasons.append("否定/正常表述（" + "".join(f"「{h}」" for h in healthy) + "），不是故障")
            return Classification(False, None, 0.85, None, reasons, keywords, score_view, has_image)
        if best is None:
            reasons.append("没有故障症状词")
            return Classification(False, None, 0.9, None, reasons, keywords, score_view, has_image)
        reasons.append(f"证据不足（得分 {best_score:.1f} < {FAULT_THRESHOLD:.1f}）")
        confidence = round(1.0 - best_score / (2 * FAULT_THRESHOLD), 2)
        return Classification(False, None, confidence, None, reasons, keywords, score_view, has_image)

    runner_up = max((s for c, s in scores.items() if c != best), default=0.0)
    margin = best_score / (best_score + runner_up)
    confidence = round(min(0.97, 0.35 + 0.6 * (best_score / (best_score + 2.0)) * margin), 2)
    if runner_up:
        second = max((c for c in scores if c != best), key=lambda c: scores[c])
        reasons.append(f"也像「{category_label(second)}」（得分 {runner_up:.1f} < {best_score:.1f}）")
    if has_image:
        reasons.append("附带图片证据")
    return Classification(
        True, best, confidence, DEFAULT_SEVERITY[best], reasons, keywords, score_view, has_image
    )
