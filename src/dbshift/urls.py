"""Database URLs: parsing, dialect detection and password masking."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from dbshift.dialects.description import describe, dialect_of_scheme
from dbshift.errors import ConfigError

#: The longest file or folder name most file systems take, in bytes.
NAME_MAX = 255
#: URL parameters whose values are secrets: masked like the password.
SECRET_PARAMETERS = {"password", "sslpassword"}


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL. ``path`` is the file of a SQLite database (None for :memory:)."""

    raw: str
    dialect: str
    scheme: str
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    path: Path | None = None
    #: The server URL's parameters (``?sslmode=require&...``) in order; the dialect says which it takes.
    parameters: tuple[tuple[str, str], ...] = ()

    def masked(self) -> str:
        """The URL with any password (also a ``password`` parameter) replaced by ``***``; safe for
        output, logs and manifests."""
        masked, parts = self.raw, urlsplit(self.raw)
        userinfo, at, host = parts.netloc.rpartition("@")
        if at and ":" in userinfo:
            masked = masked.replace(parts.netloc, f"{userinfo.split(':', 1)[0]}:***@{host}", 1)
        if parts.query and not describe(self.dialect).file_based:
            hidden = "&".join(_masked_parameter(item) for item in parts.query.split("&"))
            masked = masked.replace("?" + parts.query, "?" + hidden, 1)
        return masked

    def with_database(self, database: str) -> "DatabaseURL":
        """The same server with another database name (server dialects only)."""
        parts = urlsplit(self.raw)
        raw = parts._replace(path="/" + database).geturl()
        return replace(self, raw=raw, database=database)

    def __str__(self) -> str:
        return self.masked()


def parse_url(url: str, base_dir: Path | None = None) -> DatabaseURL:
    """Parse ``url``; a relative SQLite path is taken relative to ``base_dir`` (the project)."""
    if not url or "://" not in url:
        raise ConfigError(
            f"not a database URL: {url!r}",
            hint="use sqlite:///file.db, postgresql://user@host/db or mysql://user@host/db",
        )
    scheme = url.split("://", 1)[0].lower()
    scheme_base = scheme.split("+", 1)[0]
    dialect = dialect_of_scheme(scheme_base)
    if dialect is None:
        raise ConfigError(
            f"unsupported database URL scheme {scheme!r} in {url.split('://')[0]}://...",
            hint="dbshift supports sqlite://, postgresql://, mysql:// and mariadb://",
        )
    if describe(dialect).file_based:
        return _parse_file_url(url, scheme, dialect, base_dir)
    try:
        return _parse_server(url, scheme, dialect)
    except ValueError as exc:  # urllib's: brackets, ports, IPv6 literals
        raise ConfigError(
            f"bad database URL {mask_unparsed(url)}: {exc}",
            hint="write it as scheme://user:password@host:port/database; an IPv6 host goes in brackets, "
            "e.g. postgresql://app@[::1]:5432/app",
        ) from None


def _parse_server(url: str, scheme: str, dialect: str) -> DatabaseURL:
    """A server URL's parts; urllib's ValueError for a malformed one is left to the caller."""
    if "\x00" in url or "%00" in url:
        raise ValueError("it contains a NUL byte")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(
            f"bad port in database URL: {exc}", hint="a port is a number from 1 to 65535, e.g. :5432"
        ) from None
    database = unquote(parts.path.lstrip("/")) or None
    parameters = parse_qsl(parts.query, keep_blank_values=True)
    password = unquote(parts.password) if parts.password is not None else None
    # libpq also takes the password as a parameter; it then travels like one given before the @.
    password = next((value for key, value in parameters if key == "password"), password)
    return DatabaseURL(
        raw=url,
        dialect=dialect,
        scheme=scheme,
        user=unquote(parts.username) if parts.username else None,
        password=password,
        host=parts.hostname,
        port=port,
        database=database,
        parameters=tuple((key, value) for key, value in parameters if key != "password"),
    )


def mask_unparsed(url: str) -> str:
    """A URL that urllib cannot parse, with anything between ``user:`` and the last ``@`` hidden."""
    scheme, sep, rest = url.partition("://")
    authority, at, tail = rest.rpartition("@")
    if not at or ":" not in authority:
        return repr(url)
    return repr(f"{scheme}{sep}{authority.split(':', 1)[0]}:***@{tail}")


def _masked_parameter(item: str) -> str:
    key, equals, _ = item.partition("=")
    return f"{key}=***" if equals and unquote(key).lower() in SECRET_PARAMETERS else item


def _parse_file_url(url: str, scheme: str, dialect: str, base_dir: Path | None) -> DatabaseURL:
    """A file database's URL (SQLite): ``scheme:///relative.db``, ``scheme:////absolute.db``, ``scheme:///:memory:``."""
    rest = url.split("://", 1)[1]
    if not rest.startswith("/"):
        raise ConfigError(
            f"bad SQLite URL {url!r}",
            hint="use sqlite:///relative.db or sqlite:////absolute/path.db",
        )
    rest = rest[1:].split("?", 1)[0]
    if rest in ("", ":memory:"):
        return DatabaseURL(raw=url, dialect=dialect, scheme=scheme, database=":memory:")
    name = unquote(rest)
    if "\x00" in name:
        raise ConfigError(
            f"bad SQLite URL {url!r}: the file name contains a NUL byte",
            hint="use sqlite:///relative.db or sqlite:////absolute/path.db",
        )
    path = Path(name)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    too_long = next((part for part in path.parts if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX), None)
    if too_long is not None:
        raise ConfigError(
            f"bad SQLite URL: the name {too_long[:40]}... is {len(too_long.encode('utf-8', 'surrogateescape'))} bytes long",
            hint=f"a file or folder name has at most {NAME_MAX} bytes on this system; use a shorter one",
        )
    return DatabaseURL(raw=url, dialect=dialect, scheme=scheme, database=str(path), path=path)
