"""Imports every module that defines tables, so metadata and migrations see them all."""
from bot.store import models  # noqa: F401
from bot.compliance import models as compliance_models  # noqa: F401,E402
from bot.compliance import models as compliance_models  # noqa: F401,E402
