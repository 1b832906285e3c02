"""The README's first command installs no extras (``pip install -e . && deepsentinel demo``): the command line
must work without the gateway's packages, and ``serve`` must say which extra it needs."""

from __future__ import annotations

import subprocess
import sys

_WITHOUT_GATEWAY = """
import importlib.abc, sys

class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"aiohttp", "uvicorn", "uvloop", "httptools"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
from deepsentinel.cli.app import main
sys.exit(main(sys.argv[1:]))
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _WITHOUT_GATEWAY, *args], capture_output=True, text=True,
                          timeout=240, check=False)


def test_the_demo_runs_without_the_gateway_extra() -> None:
    done = _cli("demo")
    assert done.returncode == 0, done.stderr
    assert "chain: intact" in done.stdout and "Done." in done.stdout


def test_serve_without_the_gateway_extra_names_the_extra() -> None:
    done = _cli("serve", "--no-auth", "--port", "0")
    assert done.returncode == 1
    assert "pip install 'deepsentinel-sdk[gateway]'" in done.stderr and "aiohttp" in done.stderr
    assert "Traceback" not in done.stderr
