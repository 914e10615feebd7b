"""All texts of this locale: one module per feature (see bot.i18n.merge)."""
from bot.i18n.merge import merge

TEXTS: dict[str, str] = merge(__name__, __path__)
