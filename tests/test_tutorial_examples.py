"""The streaming tutorial as acceptance tests: each sample runs as written, only the environment differs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deepsentinel.testing import FakeLLMServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "streaming"
TUTORIAL = ROOT / "docs" / "tutorials" / "streaming.md"


def run_example(name: str, server: FakeLLMServer, tmp_path: Path, stdin: str = "") -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "DEEPSENTINEL_"))},
        "OPENAI_API_KEY": "test-openai-key",
        "OPENAI_BASE_URL": server.openai_base_url,
        "ANTHROPIC_API_KEY": "test-anthropic-key",
        "ANTHROPIC_BASE_URL": server.anthropic_base_url,
        "DEEPSENTINEL_API_KEY": "test-sentinel-key",
        "DEEPSENTINEL_AUDIT_PATH": str(tmp_path / "audit.sqlite3"),
        "PYTHONIOENCODING": "utf-8",
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], input=stdin, capture_output=True, text=True, env=env, timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def test_examples_are_the_tutorial_samples_as_written() -> None:
    """Every Python sample of the tutorial appears verbatim in an example script."""
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(), re.S)
    scripts = [p.read_text() for p in sorted(EXAMPLES.glob("*.py"))]
    assert len(blocks) == 9
    for block in blocks:
        assert any(block in script for script in scripts), block.splitlines()[0]


def test_step1_streams_and_completes(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    out = run_example("step1_basic_streaming.py", fake_server, tmp_path)
    assert out.startswith("Response: ") and len(out) > 40
    assert "Stream completed" in out and "Error" not in out
    assert fake_server.last_request.json["temperature"] == 0.7


def test_step2_counts_tokens_and_words(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    out = run_example("step2_token_processing.py", fake_server, tmp_path)
    tokens = int(re.search(r"Tokens received: (\d+)", out).group(1))  # type: ignore[union-attr]
    words = int(re.search(r"Words counted: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert tokens > 3 and words > 3 and "Error" not in out


def test_step3_tracks_progress(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    out = run_example("step3_progress_tracking.py", fake_server, tmp_path)
    assert "Progress: [" in out and "Generation Statistics:" in out and "Full story:" in out


def test_step4_interactive_chat_keeps_history(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    out = run_example("step4_interactive_chat.py", fake_server, tmp_path, stdin="Tell me about rivers\nAnd lakes?\nexit\n")
    assert out.count("Assistant: ") == 2 and "Goodbye!" in out
    assert [m["role"] for m in fake_server.last_request.json["messages"]] == ["system", "user", "assistant", "user"]


def test_step4_blocks_a_card_and_carries_on(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    out = run_example("step4_interactive_chat.py", fake_server, tmp_path,
                      stdin="My card is 4111 1111 1111 1111\nHello\nquit\n")
    assert "Compliance violation:" in out and "Please avoid sending sensitive information." in out
    # The sample keeps the blocked message in its history, and history is checked on every turn: the card
    # never leaves the process, so neither does the next turn that would carry it along.
    assert out.count("Compliance violation:") == 2 and "4111" not in out.split("You:", 2)[-1]
    assert fake_server.request_count() == 0


def test_step5_streams_safe_content_and_blocks_the_ssn(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    out = run_example("step5_streaming_compliance.py", fake_server, tmp_path)
    assert "✅ Safe content successfully streamed" in out
    assert "✅ Compliance violation correctly detected" in out
    assert "Violation types: ['US_SSN']" in out
    assert "123-45-6789" not in out
    assert fake_server.request_count() == 1


def test_step6_streams_from_both_providers(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    out = run_example("step6_multiple_providers.py", fake_server, tmp_path)
    assert "Streaming from openai (gpt-4o):" in out and "Streaming from anthropic (claude-3-opus-20240229):" in out
    assert "Error with" not in out
    paths = [r.path for r in fake_server.requests]
    assert paths == ["/v1/chat/completions", "/v1/messages"]


def test_step7_reports_each_error_kind(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    out = run_example("step7_error_handling.py", fake_server, tmp_path)
    cases = out.split("Test case ")
    assert "Success! Generated" in cases[1]
    assert "Failed with compliance error" in cases[2] and "4111" not in cases[2]
    assert "Provider error (openai)" in cases[3] and "Failed with provider error" in cases[3]


def test_step8_app_handles_commands(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    out = run_example("step8_chat_app.py", fake_server, tmp_path,
                      stdin="/stats\nHello there\n/stats\n/reset\n/exit\n")
    assert "Messages exchanged: 0 user, 0 assistant" in out
    assert "Messages exchanged: 1 user, 1 assistant" in out
    assert "Conversation has been reset." in out and "Goodbye!" in out


def test_performance_config_sample_builds_a_client(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    run_example("performance_config.py", fake_server, tmp_path)


@pytest.mark.parametrize("name", ["step1_basic_streaming.py"])
def test_examples_fail_cleanly_without_a_server(name: str, tmp_path: Path) -> None:
    """Pointed at a closed port, the sample prints its error line instead of crashing."""
    server = FakeLLMServer().start()
    server.stop()  # a port nobody listens on
    out = run_example(name, server, tmp_path)
    assert "Error:" in out


def _console_commands(text: str) -> list[str]:
    """The ``$ ...`` lines of the tutorial's console blocks, in order."""
    blocks = re.findall(r"```console\n(.*?)```", text, re.S)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


@pytest.fixture
def module_server() -> Any:
    """The fake server started the way the tutorial says, `python -m deepsentinel.testing`, on a free port."""
    proc = subprocess.Popen([sys.executable, "-m", "deepsentinel.testing", "--port", "0"], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_tutorials_shell_commands_run_as_written(module_server: str, tmp_path: Path) -> None:
    """Start the server and run the samples exactly as the tutorial's console blocks say (only the port differs)."""
    text = TUTORIAL.read_text()
    url = re.match(r"DeepSentinel fake LLM server on (http://127\.0\.0\.1:\d+) ", module_server)
    assert url is not None, module_server
    documented = re.search(r"\$ python -m deepsentinel.testing --port 8765\n(.*)\n", text)
    assert documented is not None and documented.group(1) == module_server.strip().replace(url.group(1).rsplit(":", 1)[1], "8765")
    commands = [c.replace("http://127.0.0.1:8765", url.group(1)) for c in _console_commands(text)]
    setup = [c for c in commands if c.startswith("export ")]
    piped = [c for c in commands if "| python examples/" in c]
    first = next(c for c in commands if c.startswith("python examples/"))
    assert len(setup) == 3 and len(piped) == 2  # step 4 and step 8
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "DEEPSENTINEL_"))}
    for command in [first, *piped]:
        script = "\n".join([*setup, command]).replace("$PWD/tutorial-audit.sqlite3", str(tmp_path / "audit.sqlite3"))
        done = subprocess.run(["bash", "-ec", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (command, done.stderr)
        assert "Error" not in done.stdout, (command, done.stdout)
    assert (tmp_path / "audit.sqlite3").exists()  # DEEPSENTINEL_AUDIT_PATH took effect


@pytest.mark.parametrize("name", ["step4_interactive_chat.py", "step8_chat_app.py"])
def test_what_the_tutorial_says_about_end_of_input_is_true(name: str, fake_server: FakeLLMServer, tmp_path: Path) -> None:
    """The samples leave only by their exit word; at end of input they end with EOFError, as the doc warns."""
    assert "`EOFError`" in TUTORIAL.read_text()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "DEEPSENTINEL_"))},
        "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": fake_server.openai_base_url,
        "DEEPSENTINEL_AUDIT_PATH": str(tmp_path / "audit.sqlite3"),
    }
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], input="Hello\n", capture_output=True, text=True,
                          env=env, timeout=60, cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.rstrip().endswith("EOFError: EOF when reading a line")
