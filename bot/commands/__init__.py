"""Every module in this package declares commands; ``load_all`` imports them all, then the
feature modules listed in bot/features.py (their cards, timer handlers, callbacks)."""
from __future__ import annotations

import importlib
import pkgutil

from bot import features


def load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "registry":
            importlib.import_module(f"{__name__}.{info.name}")
    features.load()
