"""Where the audit database lives when the caller does not say.

Order: ``$DEEPSENTINEL_AUDIT_PATH``; then the platform's per-user data directory (``$XDG_DATA_HOME`` or
``~/.local/share`` on Linux and other Unixes, ``%LOCALAPPDATA%`` on Windows, ``~/Library/Application
Support`` on macOS) under ``deepsentinel/audit.sqlite3``. Nothing is created here: the store makes the
directory on its first write.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

ENV_AUDIT_PATH = "DEEPSENTINEL_AUDIT_PATH"
ENV_AUDIT_URL = "DEEPSENTINEL_AUDIT_URL"
FILE_NAME = "audit.sqlite3"


def default_audit_path(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The default audit database path for this user (``environ``/``platform`` are for tests)."""
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    explicit = env.get(ENV_AUDIT_PATH)
    if explicit:
        return Path(explicit).expanduser()
    if plat.startswith("win"):
        base = env.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif plat == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "deepsentinel" / FILE_NAME


def is_postgres_url(value: str) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL naming a PostgreSQL audit store."""
    return value.startswith(("postgresql://", "postgres://"))
