"""Reading settings from the environment, with one clear line on bad input.

A misconfigured deployment should fail at start with a message naming the
variable, not with a traceback from deep inside Django.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


class ConfigurationError(SystemExit):
    """Exits the process with a one-line message naming the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"Clearmix configuration error: {variable} {problem}")


def _read(kind: str, name: str, default: Any) -> Any:
    reader = getattr(env, kind)
    try:
        if default is environ.Env.NOTSET:
            return reader(name)
        return reader(name, default=default)
    except environ.ImproperlyConfigured:
        raise ConfigurationError(name, "is required but not set.") from None
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(name, f"is malformed ({exc}).") from None


def env_str(name: str, default: Any = environ.Env.NOTSET) -> str:
    value = _read("str", name, default)
    return value


def env_bool(name: str, default: Any = environ.Env.NOTSET) -> bool:
    raw = env.str(name, default=None)
    if raw is None:
        if default is environ.Env.NOTSET:
            raise ConfigurationError(name, "is required but not set.")
        return bool(default)
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigurationError(name, f"must be true or false, got {raw!r}.")


def env_int(name: str, default: Any = environ.Env.NOTSET) -> int:
    raw = env.str(name, default=None)
    if raw is None:
        if default is environ.Env.NOTSET:
            raise ConfigurationError(name, "is required but not set.")
        return int(default)
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(name, f"must be an integer, got {raw!r}.") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = env.str(name, default=None)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


SUPPORTED_DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "psql", "sqlite"}


def env_db(name: str, default: str) -> dict[str, Any]:
    raw = env.str(name, default=default)
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise ConfigurationError(
            name, f"must start with postgres:// or sqlite:// (got scheme {scheme!r})."
        )
    try:
        config = environ.Env.db_url_config(raw)
    except Exception as exc:
        raise ConfigurationError(name, f"is not a valid database URL ({exc}).") from None
    if not config.get("ENGINE"):
        raise ConfigurationError(name, f"names an unsupported database scheme: {raw!r}.")
    return config


def postgres_timeouts(*, connect_seconds: int, statement_ms: int) -> dict[str, Any]:
    """psycopg connection options: libpq's connect timeout, the server's
    statement timeout for every session of this connection, and TCP
    keepalives so a server host that vanished mid-connection (no reset ever
    arrives) is noticed in about a minute rather than the kernel's two hours."""
    options: dict[str, Any] = {
        "connect_timeout": connect_seconds,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if statement_ms > 0:
        options["options"] = f"-c statement_timeout={statement_ms}"
    return options


def redis_socket_options(*, connect_seconds: int, read_seconds: int) -> dict[str, Any]:
    """redis-py socket timeouts (used by the cache and by kombu's transport)."""
    return {
        "socket_connect_timeout": connect_seconds,
        "socket_timeout": read_seconds,
        "socket_keepalive": True,
        "retry_on_timeout": False,
    }


def die(message: str) -> None:
    sys.exit(f"Clearmix configuration error: {message}")
