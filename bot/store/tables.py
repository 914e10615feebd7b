"""Imports every module that defines tables, so metadata and migrations see them all."""
from bot.store import models  # noqa: F401
from bot.compliance import models as _compliance  # noqa: F401
from bot.faults import models as _faults  # noqa: F401
from bot.norms import models as _norms  # noqa: F401
from bot.reminders import models as _reminders  # noqa: F401
from bot.timers import models as _timers  # noqa: F401
from bot.reviews import models as _reviews  # noqa: F401
from bot.schedule import models as _schedule  # noqa: F401
from bot.tasks import models as _tasks  # noqa: F401
from bot.data import models as _data  # noqa: F401
from bot.timeparse import holiday_store as _holidays  # noqa: F401
from bot.feishu import groupmode as _groupmode  # noqa: F401
from bot import leads as _leads  # noqa: F401
from bot.calendar import models as _calendar  # noqa: F401
from bot.bitable import models as _bitable  # noqa: F401
from bot.survey import models as _survey  # noqa: F401
from bot.tasks import mirror_models as _task_mirrors  # noqa: F401
from bot.norms import more_models as _norms_more  # noqa: F401
