"""Imports every module that defines tables, so metadata and migrations see them all."""
from bot.store import models  # noqa: F401
