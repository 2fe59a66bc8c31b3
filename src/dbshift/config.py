"""Project configuration: ``dbshift.toml``, environments and overrides.

Precedence for the database URL: ``--db`` > ``--env NAME`` > ``DATABASE_URL`` > ``[database] url``.
"""

from __future__ import annotations

import os
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


def load_config(
    root: Path | str | None = None,
    db: str | None = None,
    env: str | None = None,
) -> Config:
    """Read ``dbshift.toml`` (if any) at or above ``root`` and apply the overrides."""
    start = Path(root) if root is not None else Path.cwd()
    config_file = find_config(start)
    data: dict = {}
    if config_file is not None:
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{config_file}: {exc}", hint="fix the TOML syntax of dbshift.toml"
            ) from None
        project_root = config_file.parent
    else:
        project_root = start.resolve()
    database = _table(data, "database", config_file)
    environments = _table(data, "environments", config_file)
    env_urls = {name: _env_url(name, value, config_file) for name, value in environments.items()}

    raw_url = _pick_url(db, env, env_urls, database.get("url"), config_file)
    url = parse_url(raw_url, project_root) if raw_url else None
    return Config(
        root=project_root,
        url=url,
        migrations_dir=project_root / _table(data, "migrations", config_file).get("dir", "migrations"),
        backups_dir=project_root / _table(data, "backups", config_file).get("dir", "backups"),
        keep_backups=int(_table(data, "backups", config_file).get("keep", 20)),
        lock_timeout=float(database.get("lock_timeout", 30)),
        environment=env,
        environments=env_urls,
        config_file=config_file,
        lint=_table(data, "lint", config_file),
    )


def _pick_url(db, env, env_urls, file_url, config_file) -> str | None:
    if db:
        return db
    if env:
        if env not in env_urls:
            known = ", ".join(sorted(env_urls)) or "none"
            raise ConfigError(
                f"unknown environment {env!r} (known: {known})",
                hint=f"add [environments.{env}] with a url to {config_file or CONFIG_NAME}",
            )
        return env_urls[env]
    return os.environ.get("DATABASE_URL") or file_url


def _table(data: dict, key: str, config_file: Path | None) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{config_file}: [{key}] must be a table", hint="see `dbshift init`")
    return value


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
