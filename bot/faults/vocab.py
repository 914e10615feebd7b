"""The fault classifier's vocabulary (bot.faults.classify): typo fixes, per-category
symptoms and equipment objects, generic symptoms, healthy and resolved phrases, and the gates'
word lists. Regexes run on normalised text (NFKC, lower case).

Adding a kind of fault is adding its objects (what breaks: 小黄车, 推流码, 评论区 …) and the
symptoms that only fit it (挂不上, 过期, 刷不出来 …); a symptom that fits anything (不显示,
打不开) is generic and is credited to the nearest object.
"""
from __future__ import annotations

from typing import NamedTuple

from .categories import Category

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
    Category.STREAM_KEY: [
        # the key or push URL itself named with what happened to it: the cause, so it outweighs
        # the stream's own symptom ("推流失败，推流码过期了" is a stream-key fault)
        (r"(?:(?:推流|串流|直播)(?:码(?!率)|密钥|地址|链接|url)|服务器地址|rtmp地址?)[^，。,!！]{0,4}?"
         r"(?:过期|到期|失效|无效|不对|错误|错了|被重置|重置了|变了|换了|用不了|不能用|报错|不可用|被占用)", 4),
        (r"\bstream ?key\b[^,.!]{0,20}?\b(?:expired|invalid|wrong|reset|rejected|not working)\b"
         r"|\b(?:expired|invalid|wrong) stream ?key\b", 4),
        (r"\b(?:rtmp|push|server) (?:url|address)\b[^,.!]{0,20}?\b(?:expired|invalid|wrong|rejected)\b", 4),
    ],
    Category.LISTING: [
        # the product link cannot be put up or opened (not: it is up but wrong, see price_stock)
        (r"(?:小黄车|黄车|购物车|商品链接|链接|商品卡|讲解卡|橱窗)[^，。,!！]{0,3}?"
         r"(?:挂不上|上不去|上不了|加不上|加不进|挂不了|添加不了|添加失败|上架失败|上不了架|弹不出|点不开|打不开|"
         r"不显示|显示不出|刷不出|看不到|看不见|找不到|搜不到|审核不通过|审核没过|被驳回|失效)", 3),
        (r"\b(?:cart|product link|listing|shopping bag|link)\b[^,.!]{0,25}?"
         r"\b(?:won'?t (?:add|load|open|show)|can'?t (?:be added|load|open)|not (?:showing|loading|opening)|"
         r"(?:is |are )?missing|disappeared|rejected)\b", 3),
        (r"\bcan'?t (?:add|attach|pin|list) (?:the |a |our )?(?:product|link|item)", 3),
    ],
    Category.INTERACTION: [
        # the comment area or an interaction tool does not load (not: nobody comments)
        (r"(?:评论区?|公屏|弹幕|留言区?)[^，。,!！]{0,3}?"
         r"(?:刷不出|刷不到|不刷新|不显示|显示不出|没显示|加载不出|出不来|看不到|看不见|发不出|发不了|发不上|用不了|打不开)", 3),
        (r"福袋[^，。,!！]{0,3}?(?:发不出|发不了|弹不出|挂不上|设置不了|用不了)", 3),
        (r"\b(?:comments?|live chat|chat)\b[^,.!]{0,20}?\b(?:not (?:showing|loading|updating)|won'?t (?:load|show)|"
         r"isn'?t (?:loading|showing|updating)|stopped (?:loading|updating)|frozen)\b", 3),
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
    Category.STREAM_KEY: [
        (r"推流码(?!率)|推流地址|推流密钥|串流密钥|推流链接|直播码|rtmp(?:地址)?|服务器地址", 1.0),
        (r"\bstream ?key\b|\bpush url\b|\bserver url\b", 1.0),
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
    # The same words as price_stock: what is said about them tells a wrong listing (错了, 不对)
    # from one that cannot be put up or opened (挂不上, 打不开): see GENERIC_SYMPTOMS' preference.
    Category.LISTING: [
        (r"小黄车|黄车|购物车|商品链接|链接|商品卡|讲解卡|橱窗|商品", 1.0),
        (r"\bcart\b|\blink\b|\blisting\b|\bproduct\b|\bshopping bag\b", 1.0),
    ],
    Category.INTERACTION: [
        (r"评论区|评论|公屏|弹幕|留言区|留言|福袋|点赞|连麦|粉丝团", 1.0),
        (r"\bcomments?\b|\blive chat\b|\bchat\b|\bdanmaku\b", 1.0),
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

class Symptom(NamedTuple):
    """A symptom that needs an object to tell the category. ``only``: the categories it may
    pair with (None: any); ``never``: the ones it never pairs with (a stream does not "crash",
    software does; "设置成 …" only describes a listing). ``prefer``: when one word is an object
    of several categories (链接 is price_stock and listing), the category this symptom means
    (打不开 → listing; 错了 → price_stock, the first declared, by default)."""

    pattern: str
    only: frozenset[Category] | None = None
    never: frozenset[Category] = frozenset()
    prefer: frozenset[Category] = frozenset()


_C = Category
_UNAVAILABLE = frozenset({_C.LISTING, _C.INTERACTION, _C.STREAM_KEY})
GENERIC_SYMPTOMS: list[Symptom] = [
    Symptom(r"(?<!人气)(?<!流量)(?<!销量)(?<!单量)(?<!评论)(?<!评论区)(?<!弹幕)(?<!公屏)炸了"),
    Symptom(r"不(?:太)?正常|(?:还)?没(?:有)?恢复|未恢复|还没好|没修好|恢复不了"),
    Symptom(r"坏了|坏掉|损坏|挂了|寄了|凉了|罢工|失灵|故障|出问题|有问题|异常|报错|提示错误|不行了?|歪了|倒了|塌了"),
    Symptom(r"崩了|崩溃|崩|卡死|白屏|登不上|登录不了|登不进|启动不了|无法启动", never=frozenset({_C.STREAM_DOWN})),
    Symptom(r"断了|断开|中断|掉线|(?:老是|一直|总是|经常|又)断|断断续续|掉了|掉下来|丢了|不见了|消失|没了|停了|停在|定格|"
            r"不动了?|卡住", prefer=_UNAVAILABLE),
    Symptom(r"黑了|一片黑|全黑|黑屏|花屏|绿屏|没画面|无画面|没信号|无信号|黑点|脏了|起雾"),
    Symptom(r"闪一下|一闪一闪|一直闪|闪烁|闪个不停|忽明忽暗|忽亮忽暗"),
    Symptom(r"不亮|灭了|烧了|不响|放不出|不转|没反应|不工作|不能用|用不了|打不开|开不了机?|连不上|进不去|进不来",
            prefer=_UNAVAILABLE),
    Symptom(r"识别不到|检测不到|读不到|没电|过热|发烫|关机|重启|松了|松动|接触不良|倒过来|颠倒|碎了|裂了|进水"),
    Symptom(r"错了|不对|错误|对不上|没生效|不生效|没同步|没设置上?"),
    # it does not show up or load: a listing, the comment area, a device's picture
    Symptom(r"不显示|没显示|显示不出来?|刷不出来?|刷不到|刷新不出来?|不刷新|加载不出来?|加载失败|出不来|弹不出来?|点不开|"
            r"看不到|看不见|找不到|搜不到|发不出去?|发不了|发不上", prefer=_UNAVAILABLE),
    Symptom(r"挂不上去?|上不去|上不了(?!播)|加不上|加不进去?|挂不了|添加不了|添加失败|上架失败|上不了架|审核不通过|审核没过|被驳回",
            only=frozenset({_C.LISTING})),
    Symptom(r"过期了?|到期了?|无效", only=frozenset({_C.STREAM_KEY, _C.LISTING, _C.PRICE_STOCK}),
            prefer=frozenset({_C.STREAM_KEY, _C.LISTING})),
    Symptom(r"失效", prefer=frozenset({_C.STREAM_KEY, _C.LISTING})),
    Symptom(r"被重置|重置了|被占用", only=frozenset({_C.STREAM_KEY})),
    Symptom(r"没改过来|改不过来|改不了|(?:挂|设置|设|写|标|填|改)(?:成|少|多|低|高)了?|\b(?:isn'?t|not|doesn'?t|won'?t) apply",
            only=frozenset({_C.PRICE_STOCK})),
    Symptom(r"(?:很|太|特别|有点)?(?:弱|差)(?!评|价|不多|点)", only=frozenset({_C.NETWORK})),
    Symptom(r"\bnot working\b|\bdoesn'?t work\b|\bisn'?t working\b|\bwon'?t (?:work|start|turn on)\b|\bnot turning on\b"),
    Symptom(r"\bbroken\b|\bdead\b|\bdied\b|\bdown\b|\bstuck\b|\bcut(?:ting|s)? out\b|\bwent out\b|\bdisconnect|"
            r"\bturn(?:s|ing)? off\b|\bcollapsed\b|\bfell (?:over|down)\b"),
    Symptom(r"\bcrash(?:ed|es|ing)?\b|\bfroze(?:n)?\b|\bfreez", never=frozenset({_C.STREAM_DOWN})),
    Symptom(r"\bfailed\b|\b(?:isn'?t|not) detected\b|\bblack screen\b|\bno signal\b|\bdropping\b|\bdropped\b|"
            r"\bflickering\b|\boffline\b"),
    Symptom(r"\bnot (?:showing|loading|updating)\b|\b(?:won'?t|can'?t) (?:load|show|open)\b|\bisn'?t (?:loading|showing)\b|"
            r"\bdisappeared\b|\bmissing\b", prefer=_UNAVAILABLE),
    Symptom(r"\bexpired\b|\binvalid\b", only=frozenset({_C.STREAM_KEY, _C.LISTING, _C.PRICE_STOCK}),
            prefer=frozenset({_C.STREAM_KEY, _C.LISTING})),
    Symptom(r"\b(?:can'?t|cannot|won'?t) (?:add|attach|pin)\b", only=frozenset({_C.LISTING})),
    Symptom(r"\bwrong\b", only=frozenset({_C.PRICE_STOCK})),
]

# A screen symptom said of a device describes that device: "采集卡没信号 黑屏" is the capture
# card's picture, so a specific 黑屏 yields to an object of another category next to it.
# Likewise "设置错了" said of a camera or a push URL is that thing's setting, not a listing's.
YIELDING = r"黑屏|花屏|绿屏|\bblack screen\b|(?:挂|标|设置|设|选|填|上|写|配|改)错"

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
    r"几点|什么时候|啥时候|哪天|哪个|哪些|哪里|哪儿|在哪|放哪|谁(?!能|来|帮|有空)|多少|多久|多长时间|几个|几台|"
    r"要不要|需不需要|算不算|型号|怎么(?:设置|配置|调|装|安装|用|操作|接|开启|选|买|避免|预防)|如何|怎样|"
    r"一般|通常|平时|^(?:what|when|who|where|which|how|did|do|does|should|can|could|is|are)\b(?!['’]t)"
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


