"""``deepsentinel chat`` in a real pseudo-terminal: the interactive prompt, and Ctrl-C cancelling one answer."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from deepsentinel.testing import FakeLLMServer, Reply

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX only")

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class Terminal:
    """A child process on a pseudo-terminal, with reads that wait for expected text."""

    def __init__(self, args: list[str]) -> None:
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 60.0) -> str:  # start-up imports are slow on a busy machine
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {text!r}; screen so far:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    data = b""
                if not data:
                    raise AssertionError(f"terminal closed before {text!r}; screen:\n{self.seen}")
                self.seen += _ANSI.sub("", data.decode("utf-8", "replace"))
        return self.seen

    def send(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)


def test_ctrl_c_cancels_the_answer_but_not_the_session(fake_server: FakeLLMServer) -> None:
    """Ctrl-C during a slow answer closes that stream; the next prompt works and /exit leaves with 0."""
    slow = Reply(chunks=["Once ", "upon ", "a ", "time ", "there ", "was ", "a ", "very ", "long ", "story."],
                 delay_between=0.3)
    fake_server.enqueue(slow, Reply(text="After the break."))
    term = Terminal([sys.executable, "-m", "deepsentinel", "chat", "--base-url", fake_server.openai_base_url,
                     "--api-key", "test-key"])
    try:
        term.expect("you>")
        term.send("tell me a story")
        term.expect("assistant> Once")
        term.proc.send_signal(signal.SIGINT)
        term.expect("answer cancelled")
        term.send("and now?")
        term.expect("After the break.")
        term.send("/stats")
        term.expect("cancelled: 1")
        term.send("/exit")
    finally:
        code = term.close()
    assert code == 0
    assert "story." not in term.seen  # the rest of the cancelled answer never arrived
    assert [m["content"] for m in fake_server.last_request.json["messages"]] == ["and now?"]
