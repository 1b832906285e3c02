"""``python -m deepsentinel.testing``: serve the fake LLM server until Ctrl-C or SIGTERM.

The first line printed names the base URLs, so a parent process can read the port from it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from deepsentinel.testing.server import FakeLLMServer


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deepsentinel.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: 0, any free port)")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any key)")
    parser.add_argument("--model", action="append", default=[], help="an extra model name (repeatable)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server in the foreground; returns the exit status."""
    args = _parse(argv)
    done = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    with FakeLLMServer(host=args.host, port=args.port, api_key=args.api_key, models=args.model) as server:
        print(
            f"DeepSentinel fake LLM server on {server.url} "
            f"(OpenAI: {server.openai_base_url}, Anthropic: {server.anthropic_base_url})",
            flush=True,
        )
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
