"""Runs ``tests/node/dropin.mjs`` (the official ``openai`` npm package) against a base URL.

The package is installed once per lock file with ``npm ci`` into a cache directory outside the
repository (``$XDG_CACHE_HOME`` or ``~/.cache``), so the work tree never holds ``node_modules``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
_FILES = ("package.json", "package-lock.json", "dropin.mjs")


def node_missing() -> str | None:
    """Why the Node tests cannot run here, or None."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def prepared_dir(source: Path = NODE_DIR, files: tuple[str, ...] = _FILES, prefix: str = "node") -> Path:
    """A directory outside the repository with ``source``'s locked packages installed (once per lock file)
    and its scripts beside them."""
    lock = (source / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    target = cache / "deepsentinel-tests" / f"{prefix}-{hashlib.sha256(lock).hexdigest()[:16]}"
    target.mkdir(parents=True, exist_ok=True)
    for name in files:
        shutil.copyfile(source / name, target / name)
    if not (target / "node_modules" / "openai" / "package.json").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target, check=True,
                       capture_output=True, timeout=300)
    return target


def run_dropin(directory: Path, base_url: str, prompt: str) -> dict[str, Any]:
    """Run the script; its JSON result per step (``ok``, ``text``, and ``error``/``status`` on failure)."""
    done = subprocess.run(["node", str(directory / "dropin.mjs"), base_url, prompt], cwd=directory,
                          capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise AssertionError(f"node exited {done.returncode}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
