"""All texts of this locale: one module per feature, merged here. A key defined twice is a
bug and fails at import."""
from __future__ import annotations

import importlib
import pkgutil

TEXTS: dict[str, str] = {}
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _key, _value in _module.TEXTS.items():
        if _key in TEXTS:
            raise ValueError(f"text key {_key} defined twice in {__name__}")
        TEXTS[_key] = _value
