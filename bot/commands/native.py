"""The Feishu-native features' commands and handlers (issue 17, docs/feishu-native.md), loaded
with every other command module: /排期 日历 (bot.calendar), /排期 绑定 多维表格 and /排期 多维表格
(bot.bitable), /数据 满意度 (bot.survey), and Feishu Tasks kept in step (bot.tasks.mirror)."""
from bot.bitable import commands as _bitable  # noqa: F401
from bot.calendar import commands as _calendar, watch as _watch  # noqa: F401
from bot.survey import commands as _survey  # noqa: F401
from bot.tasks import mirror as _mirror  # noqa: F401
