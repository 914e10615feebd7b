"""Texts about the Feishu app itself: group-message mode, what a missing scope means."""

TEXTS: dict[str, str] = {
    "help.intro_mentions": "In this group only messages that @{bot} reach me: write commands as `{example}`; "
                           "in a direct chat just send the command.",
    "help.more_cmd": "Send `{cmd}` for one command's details.",
    "platform.group_read_denied": "I cannot read that group message: the app lacks the sensitive scope "
                                  "im:message.group_msg (read all group messages), so replying to a file or message "
                                  "in a group does not work. Send the file to me in a direct chat and write text to "
                                  "check right after the command; or ask an admin to grant that scope.",
    "platform.timeline_mentions": "In this group only messages that @{bot} go into the timeline "
                                  "(the app lacks im:message.group_msg).",
}
TEXTS.update({
    "help.example_cmd": "schedule week",
    "help.more_example": "help name",
})
TEXTS["card.more_lines"] = "{n} more lines are not shown."
