"""Merging a locale's feature modules into one table."""
from __future__ import annotations

import importlib
import pkgutil


def merge(package: str, path) -> dict[str, str]:
    """Every module's TEXTS in one dict; a key defined twice is a bug and fails at import."""
    texts: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        module = importlib.import_module(f"{package}.{info.name}")
        for key, value in module.TEXTS.items():
            if key in texts:
                raise ValueError(f"text key {key} defined twice in {package}")
            texts[key] = value
    return texts
