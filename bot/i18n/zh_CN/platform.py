"""Texts about the Feishu app itself: group-message mode, what a missing scope means."""

TEXTS: dict[str, str] = {
    "help.intro_mentions": "本群只会把 @{bot} 的消息交给我：命令请写成 `{example}`；私聊直接发命令即可。",
    "help.more_cmd": "发送 `{cmd}` 查看某个命令的详细用法。",
    "platform.group_read_denied": "我读不到群里的这条消息：应用没有开通敏感权限「获取群组中所有消息」"
                                  "(im:message.group_msg)，所以回复群里的文件或消息不起作用。请把文件直接私聊发给我，"
                                  "要检查的文字直接写在命令后面；或请管理员开通该权限。",
    "platform.timeline_mentions": "本群只有 @{bot} 的消息会记进时间线（应用未开通 im:message.group_msg）。",
}
TEXTS.update({
    "help.example_cmd": "排期 本周",
    "help.more_example": "帮助 命令名",
})
TEXTS["card.more_lines"] = "还有 {n} 行没有显示。"
