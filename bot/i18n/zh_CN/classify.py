"""Why the fault classifier (bot.faults.classify) decided as it did: the 判定依据 on a ticket."""
TEXTS = {
    "faults.why.keywords": "命中关键词{words} → {category}",
    "faults.why.mentions": "提到{words}（像「{category}」）",
    "faults.why.command": "以命令词开头（未加斜杠的命令），按命令处理，不是故障报告",
    "faults.why.hypothetical": "假设/预防语气（「{text}」），不是正在发生的故障",
    "faults.why.past": "提到过去的时间（「{text}」），是在谈旧故障，不是新故障",
    "faults.why.info_question": "询问信息（「{text}」），不是故障报告",
    "faults.why.yes_no": "是非疑问句，是在询问状态，不是故障报告",
    "faults.why.resolved": "已恢复（「{text}」），不是待处理的故障",
    "faults.why.healthy": "否定/正常表述（{words}），不是故障",
    "faults.why.no_symptom": "没有故障症状词",
    "faults.why.weak": "证据不足（得分 {score} < {threshold}）",
    "faults.why.runner_up": "也像「{category}」（得分 {score} < {best}）",
    "faults.why.image": "附带图片证据",
}
