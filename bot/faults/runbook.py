"""First steps per fault category, from the domain note's fault table.

Three to five concrete steps each, zh_CN first, en_US second. The last step of every list
says who owns the fault, since the seed's KPI is fault handling ≤ 10 minutes. A category may
have variants for what the report names: a capture card (采集卡, HDMI) gets capture-card
steps rather than a webcam's.
"""
from __future__ import annotations

import re
import unicodedata

from .categories import Category

_STEPS: dict[str, dict[Category, list[str]]] = {
    "zh_CN": {
        Category.STREAM_DOWN: [
            "立即切换备用线路，或用 4G/5G 热点（手机/随身WiFi）重新推流",
            "确认 OBS 已开启「自动重连」（设置 → 高级 → 自动重连），必要时手动停止再开始推流",
            "检查推流端口 1935 是否被防火墙/路由器拦截，推流地址和推流码是否过期",
            "场控在评论区/口播告知观众稍等，恢复后补发福袋留住人",
            "技术 10 分钟内反馈，记录断流开始与恢复时间",
        ],
        Category.STREAM_KEY: [
            "在开播后台（直播伴侣「第三方推流」或网页开播页）重新获取本场、本账号的推流地址和推流码",
            "在 OBS「设置 → 直播」里整段替换服务器地址和推流码（不要带空格），保存后重新开始推流",
            "提示被占用：确认没有另一台电脑/手机在用同一个推流码推流，先停掉那一路",
            "仍推不上去就改用直播伴侣或手机直接开播，场控口播请观众稍等",
            "技术 10 分钟内反馈；以后在设备联调（T-2h）时一并确认推流码有效期",
        ],
        Category.SANCTION: [
            "立即停止违规话术/商品/画面（触发违规的那条线），不要继续重复",
            "主播在直播中当场口播纠正（撤回不当说法，说明正确信息）",
            "截图保存平台通知（违规原因、时间、处罚内容），记录在案",
            "运营主管 1 小时内评估是否申诉，并在复盘中更新话术禁用词",
        ],
        Category.NETWORK: [
            "改用有线网络，或切到 5 GHz WiFi，关闭同网段的下载/上传",
            "测上行带宽：上行应 ≥ 1.5 倍推流码率（如 6 Mbps 码率需 ≥ 9 Mbps 上行）",
            "在 OBS 里临时降低码率（或分辨率/帧率）直到不再掉帧",
            "仍不稳定就切换 4G/5G 热点备用线路",
        ],
        Category.ENCODER: [
            "编码过载：把编码器从 x264（CPU）切换为硬件编码（NVENC/QSV/AMF）",
            "软件崩溃/卡死：关掉后用已保存的场景集合重新打开，再开始推流",
            "关闭占用 CPU/GPU 的其他程序，必要时降低输出分辨率或帧率",
            "仍无法恢复时用备用电脑/手机开播，技术排查日志",
        ],
        Category.AUDIO: [
            "检查采样率是否一致：声卡、系统和 OBS 都设为 48 kHz",
            "重新插拔麦克风/声卡（USB 换个口），确认没有被静音、音量推子没拉下",
            "在 OBS 混音器里确认音频源有电平跳动，监听耳机试听一遍",
            "音画不同步：在音频高级属性里调整同步偏移",
            "换备用麦克风/电池，技术 10 分钟内反馈",
        ],
        Category.CAMERA: [
            "在 OBS 里删除并重新添加视频采集设备源",
            "重新插拔 USB/HDMI 线和采集卡，换一根线或换个接口",
            "检查相机电量、过热和输出设置（关闭屏显、HDMI 输出分辨率与采集卡一致）",
            "先切到备用机位或手机画面撑住直播",
        ],
        Category.PRICE_STOCK: [
            "中控立即下架或修改出错的链接（价格、库存、规格、赠品）",
            "主播口播说明正确价格，价格必须明码标价、与讲解一致",
            "核对后台订单：已按错价/超卖成交的订单记录下来，交运营决定如何处理",
            "改完后由助播在观众端复核一遍链接",
        ],
        Category.LISTING: [
            "中控在店铺后台查商品状态：在售、审核通过、有库存、没有被下架，账号有该类目的带货权限",
            "在直播中控台重新把商品加入购物车（小黄车），仍不行就删掉重加或换备用链接",
            "助播用观众端手机刷新直播间，确认小黄车和讲解卡能打开",
            "挂不上时主播先讲下一款并口播稍后上车；审核被驳回的截图原因交运营",
            "中控 10 分钟内反馈处理结果",
        ],
        Category.INTERACTION: [
            "用观众端手机进直播间看评论区/公屏，分清是主播端看不到还是观众都看不到",
            "主播端看不到：重开直播伴侣的评论/弹幕窗口或插件，检查是否误开了评论关键词屏蔽、仅粉丝可评论",
            "观众都发不出或看不到：看平台站内信是否被限制评论（按「平台违规」处理并截图）",
            "恢复前场控口播引导互动（扣1、福袋口令），助播用手机盯评论，差评 3 分钟内回应",
            "场控/技术 10 分钟内反馈",
        ],
        Category.LIGHTING: [
            "换上备用灯（或把其他机位的灯挪过来）",
            "检查电源、插线板和灯的开关/调光旋钮，频闪时把相机快门调到与电源频率匹配（50 Hz 用 1/50 或 1/100）",
            "临时调整机位或相机曝光，保证主播脸部亮度",
            "下播后报修，更新设备检查清单",
        ],
        Category.OTHER: [
            "确认故障设备和影响范围（是否影响推流、声音、画面）",
            "检查电源和线缆，重启设备",
            "换用备用设备，保证直播继续",
            "@技术 并附上照片/截图，10 分钟内反馈处理进度",
        ],
    },
    "en_US": {
        Category.STREAM_DOWN: [
            "Switch to the backup line right away, or re-stream over a 4G/5G hotspot",
            "Make sure OBS auto-reconnect is on (Settings → Advanced → Automatically Reconnect); stop and restart streaming if needed",
            "Check that port 1935 is not blocked by the firewall/router and the stream URL/key has not expired",
            "Field control tells viewers to hold on; drop a lucky bag when back to keep them",
            "Technician reports back within 10 minutes; log when the stream dropped and recovered",
        ],
        Category.STREAM_KEY: [
            "Get a fresh push URL and stream key for this stream and account in the platform's console (直播伴侣 third-party push, or the web go-live page)",
            "In OBS (Settings → Stream) replace the server URL and the key whole (no spaces), save, and start streaming again",
            "\"Key in use\": make sure no other PC or phone is pushing with the same key; stop that one first",
            "If it still will not push, go live from 直播伴侣 or a phone; field control asks viewers to hold on",
            "Technician reports back within 10 minutes; check the key's validity at the T-2h equipment test from now on",
        ],
        Category.SANCTION: [
            "Stop the offending line / product / visual at once and do not repeat it",
            "The streamer corrects it on air (retract the claim, state the correct information)",
            "Screenshot the platform notice (reason, time, penalty) and log it",
            "Ops lead decides within 1 hour whether to appeal and adds the phrase to the banned list in the review",
        ],
        Category.NETWORK: [
            "Use a wired connection or switch to 5 GHz Wi-Fi; stop other uploads/downloads on the network",
            "Check upload bandwidth: it should be at least 1.5× the stream bitrate (6 Mbps bitrate needs ≥ 9 Mbps up)",
            "Lower the bitrate in OBS (or resolution/frame rate) until frames stop dropping",
            "If it is still unstable, switch to the 4G/5G hotspot backup line",
        ],
        Category.ENCODER: [
            "Encoding overloaded: switch the encoder from x264 (CPU) to a hardware encoder (NVENC/QSV/AMF)",
            "Crash or freeze: close it and reopen with the saved scene collection, then start streaming again",
            "Close other CPU/GPU-heavy programs; lower output resolution or frame rate if needed",
            "If it will not recover, go live from the backup PC/phone and have the technician check the logs",
        ],
        Category.AUDIO: [
            "Check for a sample-rate mismatch: sound card, system and OBS all at 48 kHz",
            "Re-seat the microphone / sound card (try another USB port); check mute and faders",
            "Confirm the audio source moves in the OBS mixer and listen on headphones",
            "Audio out of sync: adjust the sync offset in Advanced Audio Properties",
            "Swap to the spare mic / batteries; technician reports back within 10 minutes",
        ],
        Category.CAMERA: [
            "Remove and re-add the video capture source in OBS",
            "Re-seat the USB/HDMI cables and the capture card; try another cable or port",
            "Check camera battery, overheating and output settings (no on-screen display, HDMI resolution matching the capture card)",
            "Cover with the backup camera angle or a phone feed meanwhile",
        ],
        Category.PRICE_STOCK: [
            "Console operator (中控) takes down or fixes the wrong listing now (price, stock, variant, gift)",
            "The streamer states the correct price on air; prices must be clearly marked and match what is said",
            "Check orders already placed at the wrong price or oversold and hand them to ops to decide",
            "After the fix, the assistant re-checks the link from the viewer side",
        ],
        Category.LISTING: [
            "Console operator (中控) checks the product in the shop back end: on sale, approved, in stock, not taken down, category allowed for the account",
            "Add the product to the cart (小黄车) again from the live console; if it still fails, remove and re-add it or use the backup link",
            "The assistant refreshes the room on a viewer's phone and checks the cart and product card open",
            "Meanwhile the streamer moves to the next product and says this one comes shortly; screenshot a rejection reason for ops",
            "Console operator reports back within 10 minutes",
        ],
        Category.INTERACTION: [
            "Open the room on a viewer's phone: is it only the streamer's side that shows no comments, or everyone?",
            "Streamer side only: reopen the comment / danmaku window or plug-in in 直播伴侣; check keyword filters and fans-only comments were not switched on",
            "Nobody can comment or see comments: check the platform's notices for a comment restriction (handle it as a platform violation, screenshot it)",
            "Until it is back, field control prompts interaction by voice (扣1, lucky-bag code) and the assistant watches comments on a phone; answer negative comments within 3 minutes",
            "Field control / technician reports back within 10 minutes",
        ],
        Category.LIGHTING: [
            "Put up the spare light (or borrow one from another set)",
            "Check power, power strip and the light's switch/dimmer; for flicker set the camera shutter to match mains (1/50 or 1/100 at 50 Hz)",
            "Adjust camera exposure or framing for now so the streamer's face stays lit",
            "Report it for repair after the stream and update the equipment checklist",
        ],
        Category.OTHER: [
            "Identify the failed device and what it affects (stream, sound, picture)",
            "Check power and cables, then restart the device",
            "Swap in a spare so the stream continues",
            "@ the technician with a photo/screenshot; report progress within 10 minutes",
        ],
    },
}


# Variants: (pattern on the report's text, steps per locale); the first that matches wins.
_CAPTURE = {
    "zh_CN": [
        "看采集卡指示灯和相机：相机开着、HDMI 输出已打开（干净输出/关闭屏显），分辨率帧率在采集卡支持范围内（如 1080p60）",
        "重新插拔 HDMI 线和采集卡（换 USB 3.0 口、换一根线），相机和采集卡都重新上电",
        "在 OBS 里删除并重新添加视频采集设备源，选对采集卡和分辨率；关掉其他占用采集卡的软件",
        "先切到备用机位或手机画面撑住直播，技术 10 分钟内反馈",
    ],
    "en_US": [
        "Check the capture card's light and the camera: camera on, HDMI output enabled (clean output, no on-screen display), resolution and frame rate within what the card takes (e.g. 1080p60)",
        "Re-seat the HDMI cable and the capture card (another USB 3.0 port, another cable); power-cycle camera and card",
        "Remove and re-add the video capture source in OBS with the right card and resolution; close other programs using the card",
        "Cover with the backup camera angle or a phone feed; technician reports back within 10 minutes",
    ],
}
_VARIANTS: dict[Category, list[tuple[re.Pattern[str], dict[str, list[str]]]]] = {
    Category.CAMERA: [(re.compile(r"采集卡|hdmi|capture card|采集"), _CAPTURE)],
}


def first_steps(category: Category | str, locale: str = "zh_CN", text: str = "") -> list[str]:
    """3–5 first steps for a fault category (the variant for what ``text`` names, if any);
    unknown locales fall back to zh_CN."""
    cat = Category(category)
    low = unicodedata.normalize("NFKC", text).lower()
    for pattern, steps in _VARIANTS.get(cat, []):
        if low and pattern.search(low):
            return list(steps.get(locale, steps["zh_CN"]))
    table = _STEPS.get(locale, _STEPS["zh_CN"])
    return list(table[cat])
