"""Project configuration: ``dbshift.toml``, environments and overrides.

Precedence for the database URL: ``--db`` > ``--env NAME`` > ``DATABASE_URL`` > ``[database] url``.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dbshift.errors import ConfigError
from dbshift.urls import DatabaseURL, parse_url

CONFIG_NAME = "dbshift.toml"

CONFIG_TEMPLATE = """\
# dbshift configuration. --db URL, --env NAME and DATABASE_URL override [database] url.

[database]
url = "{url}"
lock_timeout = 30          # seconds a second apply/rollback waits for the lock

[migrations]
dir = "migrations"

[backups]
dir = "backups"
keep = 20                  # keep this many automatic backups (0 = keep all)

# Named environments: dbshift --env staging status
[environments.dev]
url = "{url}"

# [environments.staging]
# url = "postgresql://app@staging-db/app"
"""


@dataclass
class Config:
    """The resolved settings of one project run."""

    root: Path
    url: DatabaseURL | None
    migrations_dir: Path
    backups_dir: Path
    keep_backups: int = 20
    lock_timeout: float = 30.0
    environment: str | None = None
    environments: dict[str, str] = field(default_factory=dict)
    config_file: Path | None = None
    #: The ``[lint]`` table as written (checked by :class:`dbshift.lint.LintSettings`).
    lint: dict = field(default_factory=dict)
    #: ``[migrations] out_of_order = true``: apply a pending migration older than the newest applied one.
    out_of_order: bool = False

    def require_url(self) -> DatabaseURL:
        """The database URL, or a clear error when none is configured."""
        if self.url is None:
            raise ConfigError(
                "no database configured",
                hint="run `dbshift init`, pass --db URL, or set DATABASE_URL",
            )
        return self.url


def find_config(start: Path) -> Path | None:
    """The nearest ``dbshift.toml`` at or above ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


#: The longest wait for the migration lock a setting may ask for: a week (it must fit the
#: drivers' millisecond timeouts, and anything longer is a typo).
MAX_LOCK_TIMEOUT = 7 * 24 * 3600
#: The most automatic backups ``keep`` may ask for (0 keeps all).
MAX_KEEP = 1_000_000


def load_config(
    root: Path | str | None = None,
    db: str | None = None,
    env: str | None = None,
) -> Config:
    """Read ``dbshift.toml`` (if any) at or above ``root`` and apply the overrides.

    A bad value is a :class:`ConfigError` naming the file, the line and the value.
    """
    start = Path(root) if root is not None else Path.cwd()
    config_file = find_config(start)
    settings = Settings(config_file, read_config_text(config_file) if config_file is not None else "")
    project_root = config_file.parent if config_file is not None else start.resolve()
    database = settings.table("database")
    environments = settings.table("environments")
    env_urls = {name: _env_url(name, value, config_file) for name, value in environments.items()}

    raw_url, origin = _pick_url(db, env, env_urls, settings.string("database", "url", None), settings)
    return Config(
        root=project_root,
        url=_parse_url_from(raw_url, origin, project_root) if raw_url else None,
        migrations_dir=project_root / settings.folder("migrations", "migrations"),
        backups_dir=project_root / settings.folder("backups", "backups"),
        keep_backups=settings.count("backups", "keep", 20, MAX_KEEP),
        lock_timeout=settings.lock_timeout(database.get("lock_timeout", 30)),
        environment=env,
        environments=env_urls,
        config_file=config_file,
        lint=settings.table("lint"),
        out_of_order=settings.flag("migrations", "out_of_order", False),
    )


def read_config_text(config_file: Path) -> str:
    """The text of ``dbshift.toml``: UTF-8 (a BOM is allowed); anything else is a ConfigError."""
    try:
        data = config_file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{config_file}: cannot read it ({exc.strerror})", hint="check the file's permissions"
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{config_file}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            hint="save dbshift.toml as UTF-8",
        ) from None


def check_lock_timeout(value, setting: str) -> float:
    """``value`` as seconds to wait for the lock, or a ConfigError naming the ``setting`` and the value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_LOCK_TIMEOUT:
        raise ConfigError(
            f"{setting} {value!r} is not a number of seconds from 0 to {MAX_LOCK_TIMEOUT}",
            hint="e.g. lock_timeout = 30 in dbshift.toml, or --lock-timeout 30",
        )
    return float(value)


class Settings:
    """The parsed ``dbshift.toml`` with checked accessors whose errors name the file and line."""

    def __init__(self, config_file: Path | None, text: str):
        self.config_file = config_file
        self.text = text
        try:
            self.data = tomllib.loads(text) if text else {}
        except tomllib.TOMLDecodeError as exc:
            where = re.search(r" \(at line (\d+), column \d+\)$", str(exc))  # tomllib puts it last
            if where is None:
                raise ConfigError(f"{config_file}: {exc}", hint="fix the TOML syntax of dbshift.toml") from None
            message = str(exc)[: where.start()]
            raise ConfigError(
                f"{config_file}:{where.group(1)}: {message}", hint="fix the TOML syntax of dbshift.toml"
            ) from None

    def where(self, table: str, key: str | None = None) -> str:
        """``file:line`` of ``[table]`` (or of ``key`` inside it), for error messages."""
        return f"{self.config_file}:{_line_of(self.text, table, key)}"

    def table(self, key: str) -> dict:
        """The ``[key]`` table (empty when absent)."""
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.where(key)}: [{key}] must be a table", hint="see `dbshift init`")
        return value

    def string(self, table: str, key: str, default: str | None) -> str | None:
        """A text setting; NUL bytes and other types are errors."""
        value = self.table(table).get(key, default)
        if value is not None and (not isinstance(value, str) or "\x00" in value):
            problem = "contains a NUL byte" if isinstance(value, str) else "must be text"
            raise ConfigError(
                f"{self.where(table, key)}: {key} = {value!r} {problem}",
                hint=f'write it in quotes, e.g. {key} = "{default or "..."}"',
            )
        return value

    def folder(self, table: str, default: str) -> str:
        """A ``dir`` setting: a non-empty folder name."""
        value = self.string(table, "dir", default)
        if not value or not value.strip():
            raise ConfigError(
                f"{self.where(table, 'dir')}: [{table}] dir is empty", hint=f'name a folder, e.g. dir = "{default}"'
            )
        return value

    def count(self, table: str, key: str, default: int, maximum: int) -> int:
        """A whole number from 0 to ``maximum``."""
        value = self.table(table).get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            raise ConfigError(
                f"{self.where(table, key)}: {key} = {value!r} is not a whole number from 0 to {maximum}",
                hint=f"e.g. {key} = {default}",
            )
        return value

    def flag(self, table: str, key: str, default: bool) -> bool:
        """A true/false setting."""
        value = self.table(table).get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(
                f"{self.where(table, key)}: {key} = {value!r} must be true or false", hint=f"e.g. {key} = true"
            )
        return value

    def lock_timeout(self, value) -> float:
        """``[database] lock_timeout``, checked."""
        return check_lock_timeout(value, self.where("database", "lock_timeout") + ": lock_timeout =")


def _line_of(text: str, table: str, key: str | None) -> int:
    """The line of ``[table]`` or of ``key = ...`` inside it (1 when it cannot be told)."""
    current, found = "", None
    for number, line in enumerate(text.split("\n"), start=1):  # TOML lines end at \n only
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            current = stripped.strip("[] \t").split("]")[0].strip()
            if current == table and key is None:
                return number
        elif key is not None and current == table and stripped.split("=", 1)[0].strip().strip('"') == key:
            found = found or number
    return found or 1


def _parse_url_from(raw_url: str, origin: str, project_root: Path) -> DatabaseURL:
    """Parse a URL; an error names where it came from (--db, DATABASE_URL, the file's line)."""
    try:
        return parse_url(raw_url, project_root)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc.message}", hint=exc.hint) from None


def _pick_url(db, env, env_urls, file_url, settings: Settings) -> tuple[str | None, str]:
    """The URL to use and where it came from."""
    if db:
        return db, "--db"
    if env:
        if env not in env_urls:
            known = ", ".join(sorted(env_urls)) or "none"
            raise ConfigError(
                f"unknown environment {env!r} (known: {known})",
                hint=f"add [environments.{env}] with a url to {settings.config_file or CONFIG_NAME}",
            )
        return env_urls[env], settings.where(f"environments.{env}", "url")
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], "DATABASE_URL"
    return file_url, settings.where("database", "url")


def _env_url(name: str, value, config_file: Path | None) -> str:
    if not isinstance(value, dict) or "url" not in value:
        raise ConfigError(
            f"{config_file}: [environments.{name}] needs a url",
            hint=f'[environments.{name}]\\nurl = "sqlite:///{name}.db"',
        )
    return str(value["url"])


def write_config(root: Path, url: str) -> Path:
    """Write a fresh ``dbshift.toml`` in ``root``; refuses to overwrite one."""
    path = root / CONFIG_NAME
    if path.exists():
        raise ConfigError(f"{path} already exists", hint="edit it, or remove it first")
    path.write_text(CONFIG_TEMPLATE.format(url=url), encoding="utf-8")
    return path
