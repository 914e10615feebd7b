"""Settings from the environment and a .env file.

A missing or invalid setting stops start-up with one line naming the setting and the fix
(the CLI turns ConfigError into that line and exit code 2).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot import feature_settings

DOMAINS = {"feishu": "https://open.feishu.cn", "lark": "https://open.larksuite.com"}
LOCALES = ("zh_CN", "en_US")
TRANSPORTS = ("webhook", "ws")
GROUP_MESSAGES = ("auto", "mentions", "all")


class ConfigError(Exception):
    """One bad setting: ``setting`` names it, ``fix`` says what to do."""

    def __init__(self, setting: str, problem: str, fix: str) -> None:
        super().__init__(f"{setting}: {problem}. {fix}")
        self.setting, self.problem, self.fix = setting, problem, fix


@dataclass(frozen=True)
class Settings:
    app_id: str = ""
    app_secret: str = ""
    encrypt_key: str = ""
    verification_token: str = ""
    domain: str = DOMAINS["feishu"]
    transport: str = "webhook"
    database_url: str = ""
    timezone: str = "Asia/Shanghai"
    locale: str = "zh_CN"
    admins: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    log_json: bool = False
    log_level: str = "INFO"
    sandbox: bool = False
    lease_seconds: int = 60  # BOT_LEASE_SECONDS: how long a claimed event is held before another worker may retry it
    compliance_retention_years: int = 3  # BOT_COMPLIANCE_RETENTION_YEARS: keep check records (law: >= 3)
    # BOT_GROUP_MESSAGES: auto | mentions | all — which group messages Feishu delivers
    # (all needs the sensitive scope im:message.group_msg); auto detects it (bot.feishu.groupmode)
    group_messages: str = "auto"
    http_timeout: float = 30.0  # BOT_HTTP_TIMEOUT: seconds a client has to send a request's headers, and its body (from its first bytes)
    metrics_port: int = 0  # BOT_METRICS_PORT: serve /metrics on this port only (0: on BOT_PORT)
    metrics_token: str = ""  # BOT_METRICS_TOKEN: /metrics asks for "Authorization: Bearer <token>"
    database_from_env: bool = False  # DATABASE_URL was set (the sandbox never uses it)
    extra: dict[str, str] = field(default_factory=dict)
    # Each feature's validated knobs, by feature (bot.feature_settings.MODELS); a feature reads
    # its own with feature_settings.of(settings, Model).
    features: dict[str, feature_settings.FeatureModel] = field(default_factory=dict)

    @property
    def has_credentials(self) -> bool:
        return bool(self.app_id and self.app_secret)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(name, f"'{raw}' is not a yes/no value", "Use true or false.")


def load(env: dict[str, str] | None = None, *, env_file: str | Path | None = ".env",
         sandbox: bool | None = None) -> Settings:
    """Read settings: real environment first, then the .env file, then defaults."""
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if env is None else env)
    get = lambda key, default="": (values.get(key) or default).strip()  # noqa: E731

    app_id, app_secret = get("FEISHU_APP_ID"), get("FEISHU_APP_SECRET")
    if bool(app_id) != bool(app_secret):
        missing = "FEISHU_APP_SECRET" if app_id else "FEISHU_APP_ID"
        raise ConfigError(missing, "is missing while the other credential is set",
                          "Set both FEISHU_APP_ID and FEISHU_APP_SECRET, or neither to run the sandbox.")
    if app_id and not app_id.startswith("cli_"):
        raise ConfigError("FEISHU_APP_ID", f"'{app_id}' does not look like an app id",
                          "Copy it from the developer console (it starts with cli_).")

    raw_domain = get("FEISHU_DOMAIN", "feishu")
    if raw_domain.lower() in DOMAINS:
        domain = DOMAINS[raw_domain.lower()]
    elif raw_domain.startswith(("https://", "http://127.", "http://localhost")):
        domain = raw_domain.rstrip("/")
        if "/" in domain.split("://", 1)[1]:
            raise ConfigError("FEISHU_DOMAIN", "must not contain a path",
                              "Use feishu, lark, or a bare URL such as https://open.feishu.cn.")
    else:
        raise ConfigError("FEISHU_DOMAIN", f"'{raw_domain}' is not feishu, lark or an https URL",
                          "Use feishu (default), lark, or a URL such as https://open.feishu.cn.")

    transport = get("BOT_TRANSPORT", "webhook").lower()
    if transport not in TRANSPORTS:
        raise ConfigError("BOT_TRANSPORT", f"'{transport}' is not supported", "Use webhook or ws.")

    tz_name = get("BOT_TIMEZONE", "Asia/Shanghai")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("BOT_TIMEZONE", f"'{tz_name}' is not a known time zone",
                          "Use an IANA name such as Asia/Shanghai.") from None

    locale = get("BOT_LOCALE", "zh_CN").replace("-", "_")
    if locale not in LOCALES:
        raise ConfigError("BOT_LOCALE", f"'{locale}' is not supported", "Use zh_CN or en_US.")

    raw_port = get("BOT_PORT", "8080")
    try:
        port = int(raw_port)
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise ConfigError("BOT_PORT", f"'{raw_port}' is not a port number",
                          "Use a number between 1 and 65535, e.g. 8080.") from None

    admins = tuple(a.strip() for a in get("BOT_ADMINS").replace(";", ",").split(",") if a.strip())
    for admin in admins:
        if not admin.startswith("ou_"):
            raise ConfigError("BOT_ADMINS", f"'{admin}' is not an open_id",
                              "List open_ids (ou_...) separated by commas.")

    raw_years = get("BOT_COMPLIANCE_RETENTION_YEARS", "3")
    if not raw_years.isdigit() or not 3 <= int(raw_years) <= 50:
        raise ConfigError("BOT_COMPLIANCE_RETENTION_YEARS", f"'{raw_years}' is not a number of years from 3 to 50",
                          "The 2026 live e-commerce rules require keeping records at least 3 years; use e.g. 3.")

    raw_lease = get("BOT_LEASE_SECONDS", "60")
    if not raw_lease.isdigit() or not 2 <= int(raw_lease) <= 3600:
        raise ConfigError("BOT_LEASE_SECONDS", f"'{raw_lease}' is not a number of seconds between 2 and 3600",
                          "Leave it unset (60) unless events take longer to handle.")

    group_messages = get("BOT_GROUP_MESSAGES", "auto").lower()
    if group_messages not in GROUP_MESSAGES:
        raise ConfigError("BOT_GROUP_MESSAGES", f"'{group_messages}' is not auto, mentions or all",
                          "Use auto (default: detect), mentions (only @-messages reach the bot) or all "
                          "(the app holds im:message.group_msg).")
    raw_timeout = get("BOT_HTTP_TIMEOUT", "30")
    try:
        http_timeout = float(raw_timeout)
        if not 1 <= http_timeout <= 600:
            raise ValueError
    except ValueError:
        raise ConfigError("BOT_HTTP_TIMEOUT", f"'{raw_timeout}' is not a number of seconds from 1 to 600",
                          "Leave it unset (30) unless clients upload large files over slow links.") from None

    raw_metrics_port = get("BOT_METRICS_PORT", "0")
    if not raw_metrics_port.isdigit() or int(raw_metrics_port) > 65535 or (
            raw_metrics_port != "0" and raw_metrics_port == raw_port):
        raise ConfigError("BOT_METRICS_PORT", f"'{raw_metrics_port}' is not a free port number other than BOT_PORT",
                          "Use e.g. 9464, or leave it unset to serve /metrics on BOT_PORT.")

    data_dir = Path(get("BOT_DATA_DIR", "data"))
    # The sandbox only ever starts when asked for (liveops run --sandbox), and always on its own
    # SQLite file: it seeds a demo team and deletes its database at each start.
    want_sandbox = bool(sandbox)
    if want_sandbox:
        database_url = f"sqlite+aiosqlite:///{data_dir / 'sandbox.db'}"
    else:
        database_url = normalise_db_url(get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'liveops.db'}")

    if transport == "ws" and not app_id and not want_sandbox:
        raise ConfigError("BOT_TRANSPORT", "ws needs app credentials",
                          "Set FEISHU_APP_ID and FEISHU_APP_SECRET, or use webhook.")
    if app_id and not want_sandbox and transport == "webhook" and not (
            get("FEISHU_ENCRYPT_KEY") or get("FEISHU_VERIFICATION_TOKEN")):
        raise ConfigError("FEISHU_VERIFICATION_TOKEN", "is missing, so anyone could post forged events",
                          "Copy the Verification Token (and Encrypt Key) from the app's event settings.")

    # The features' knobs (BOT_KEEP_DAYS, BOT_FAULT_* ...): a typo stops the start here instead of
    # being replaced by the default where the feature reads it (bot.feature_settings).
    features, problem = feature_settings.load(values)
    if problem or features is None:
        raise ConfigError(*(problem or ("?", "invalid", "See docs/configuration.md.")))

    return Settings(
        app_id=app_id, app_secret=app_secret,
        encrypt_key=get("FEISHU_ENCRYPT_KEY"), verification_token=get("FEISHU_VERIFICATION_TOKEN"),
        domain=domain, transport=transport, database_url=database_url, timezone=tz_name,
        locale=locale, admins=admins, host=get("BOT_HOST", "127.0.0.1"), port=port,
        data_dir=data_dir, log_json=_bool("BOT_LOG_JSON", get("BOT_LOG_JSON", "false")),
        log_level=get("BOT_LOG_LEVEL", "INFO").upper(), sandbox=want_sandbox, lease_seconds=int(raw_lease),
        compliance_retention_years=int(raw_years), group_messages=group_messages, http_timeout=http_timeout,
        metrics_port=int(raw_metrics_port), metrics_token=get("BOT_METRICS_TOKEN"),
        database_from_env=bool(get("DATABASE_URL")),
        # Feature tuning knobs (BOT_SCHEDULE_MAX_HOURS, BOT_FAULT_* ...), read by each feature.
        extra={k: v for k, v in values.items() if k.startswith("BOT_") and isinstance(v, str)},
        features=features,
    )


def normalise_db_url(url: str) -> str:
    """Accept the usual spellings and pick the async driver."""
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    elif url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise ConfigError("DATABASE_URL", "is neither PostgreSQL nor SQLite",
                          "Use postgresql://user@host/db or sqlite:///data/liveops.db.")
    return url


SECRETS = ("app_secret", "encrypt_key", "verification_token", "metrics_token")
_SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "KEY")


def redact_url(url: str) -> str:
    """``postgresql+asyncpg://user:pw@host/db`` → ``postgresql+asyncpg://user:***@host/db``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    auth, _, host = rest.partition("@")
    user, colon, _password = auth.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


def redacted(settings: Settings) -> list[tuple[str, str]]:
    """Every setting as ``(name, printable value)``, with secrets and passwords masked; then each
    feature's typed knobs as ``feature.SETTING`` (bot.feature_settings)."""
    out: list[tuple[str, str]] = []
    for key, value in sorted(vars(settings).items()):
        if key == "features":
            continue
        if key in SECRETS and value:
            value = "***"
        elif key == "database_url":
            value = redact_url(str(value))
        elif key == "extra":
            value = {k: ("***" if any(w in k.upper() for w in _SECRET_WORDS) and v else redact_url(v))
                     for k, v in sorted(value.items())}
        out.append((key, str(value)))
    return out + feature_settings.shown(settings.features)
