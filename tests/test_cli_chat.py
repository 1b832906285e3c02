"""``deepsentinel chat`` driven through piped stdin against the fake server, plus its start-up errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from deepsentinel.cli.chat_provider import explain
from deepsentinel.testing import FakeLLMServer, Reply
from tests.cli_runner import CliResult, run_cli

SSN = "123-45-" + "6789"


def chat(server: FakeLLMServer, lines: list[str], *extra: str) -> CliResult:
    args = ["chat", "--base-url", server.openai_base_url, "--api-key", "test-key", *extra]
    return run_cli(args, stdin="\n".join(lines) + "\n")


def test_normal_answer_streams_and_history_grows(fake_server: FakeLLMServer) -> None:
    """An answer is printed whole, and the next request carries the previous exchange."""
    fake_server.enqueue(Reply(chunks=["Mountains ", "stand ", "tall."]), Reply(text="Again."))
    result = chat(fake_server, ["Tell me about mountains", "and again"])
    assert result.code == 0
    assert "assistant> Mountains stand tall." in result.out and "Again." in result.out
    sent = fake_server.last_request.json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == "Mountains stand tall."
    assert fake_server.last_request.json["stream"] is True


def test_stats_report_messages_tokens_and_speed(fake_server: FakeLLMServer) -> None:
    """/stats counts answered messages and the provider's completion tokens, with timing figures."""
    fake_server.enqueue(Reply(chunks=["one ", "two ", "three"], delay_between=0.01))
    result = chat(fake_server, ["count", "/stats"])
    stats = next(line for line in result.lines if line.startswith("messages:"))
    assert "messages: 1" in stats and "tokens: 3" in stats
    assert "time to first token:" in stats and " ms" in stats
    assert "tokens/s: -" not in stats


def test_policy_command_lists_active_policies(fake_server: FakeLLMServer) -> None:
    """/policy shows the policies given with --policy."""
    result = chat(fake_server, ["/policy"], "--policy", "strict", "--policy", "pci_dss")
    assert "strict" in result.out and "pci_dss" in result.out and "active policies" in result.out
    assert "policies: strict, pci_dss" in result.out


def test_blocked_prompt_is_reported_and_not_kept(fake_server: FakeLLMServer) -> None:
    """A blocked prompt prints a clear message, sends nothing, and is not part of the next request."""
    fake_server.enqueue(Reply(text="Fine."))
    result = chat(fake_server, [f"my ssn is {SSN}", "hello", "/stats"])
    assert "blocked before sending" in result.out and "US_SSN" in result.out
    assert SSN not in result.out
    assert fake_server.request_count() == 1
    assert [m["content"] for m in fake_server.last_request.json["messages"]] == ["hello"]
    assert "blocked: 1" in result.out


def test_cut_response_shows_safe_prefix_then_message(fake_server: FakeLLMServer) -> None:
    """A card in the answer stops the stream: the safe prefix is shown, then why it stopped."""
    fake_server.enqueue(Reply(chunks=["Your card is ", "4111 1111", " 1111 1111", " ok"]), Reply(text="Sure."))
    result = chat(fake_server, ["card?", "next"])
    assert "assistant> Your card is" in result.out
    assert "response stopped" in result.out and "CREDIT_CARD" in result.out
    assert "4111" not in result.out
    history = fake_server.last_request.json["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user"]
    assert "4111" not in json.dumps(history)


def test_reset_and_exit(fake_server: FakeLLMServer) -> None:
    """/reset starts a fresh conversation (the system prompt stays); /exit stops reading input."""
    fake_server.enqueue(Reply(text="First."), Reply(text="Second."), Reply(text="Never."))
    result = chat(fake_server, ["one", "/reset", "two", "/exit", "three"], "--system", "Be brief.")
    assert result.code == 0 and "conversation cleared" in result.out
    assert fake_server.request_count() == 2
    assert [m["role"] for m in fake_server.last_request.json["messages"]] == ["system", "user"]
    assert fake_server.last_request.json["messages"][0]["content"] == "Be brief."


def test_model_and_anthropic_provider(fake_server: FakeLLMServer) -> None:
    """--provider anthropic talks to the Messages API at --base-url, with the model given."""
    fake_server.enqueue(Reply(text="Bonjour."))
    result = run_cli(
        ["chat", "--provider", "anthropic", "--base-url", fake_server.anthropic_base_url, "--api-key", "k",
         "--model", "claude-3-5-haiku-latest"],
        stdin="hi\n",
    )
    assert result.code == 0 and "Bonjour." in result.out
    assert fake_server.last_request.path == "/v1/messages"
    assert fake_server.last_request.json["model"] == "claude-3-5-haiku-latest"


def test_openai_compatible_server_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """An Ollama-style endpoint works with --base-url alone; the model comes from DEEPSENTINEL_MODEL."""
    monkeypatch.setenv("DEEPSENTINEL_MODEL", "llama3.2")
    with FakeLLMServer(models=["llama3.2"]) as local:
        local.enqueue(Reply(text="Local answer."))
        result = run_cli(["chat", "--base-url", local.openai_base_url], stdin="hi\n")
        request = local.last_request
    assert result.code == 0 and "Local answer." in result.out
    assert request.json["model"] == "llama3.2"
    assert "authorization" not in {k.lower() for k in request.headers}


def test_chat_writes_the_audit_trail(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    """--db sends the chat's audit events to that file, readable with `audit list`."""
    db = tmp_path / "chat.sqlite3"
    chat(fake_server, ["hello", f"ssn {SSN}"], "--db", str(db))
    listed = json.loads(run_cli(["audit", "list", "--db", str(db), "-f", "json"]).out)
    assert [e["outcome"] for e in listed] == ["allowed", "blocked"]


def test_missing_key_is_one_line() -> None:
    """With no key and no base URL for the official endpoint, chat refuses to start, in one line."""
    result = run_cli(["chat"], stdin="hi\n")
    assert result.code == 1 and result.err.count("\n") == 1
    assert "no API key for openai" in result.err and "OPENAI_API_KEY" in result.err


def test_unreachable_server_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that refuses connections ends a piped chat with exit 1 and one error line, no traceback."""
    monkeypatch.setenv("DEEPSENTINEL_MAX_RETRIES", "0")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        result = run_cli(["chat", "--base-url", f"http://127.0.0.1:{port}/v1"], stdin="hi\n")
    assert result.code == 1
    assert result.err.count("\n") == 1 and result.err.startswith("deepsentinel: error: [openai]")
    # Where it tried and why it failed, not just an exception's class name.
    assert f"(http://127.0.0.1:{port}/v1: Connection refused)" in result.err
    assert "Traceback" not in result.err + result.out


def test_unreachable_url_never_shows_credentials_in_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """User info and query strings in --base-url stay out of the error line; host and port are shown."""
    monkeypatch.setenv("DEEPSENTINEL_MAX_RETRIES", "0")
    secret = "pw" + "x" * 8
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        result = run_cli(["chat", "--base-url", f"http://me:{secret}@127.0.0.1:{port}/v1?key={secret}"], stdin="hi\n")
    assert result.code == 1 and f"http://127.0.0.1:{port}/v1: Connection refused" in result.err
    assert secret not in result.err + result.out


def test_piped_provider_error_is_said_once_on_stderr(fake_server: FakeLLMServer) -> None:
    """A provider error in a piped chat is one stderr line, not repeated on stdout."""
    fake_server.enqueue(Reply(status=404, error_message="The model `nope` does not exist"))
    result = chat(fake_server, ["hi"], "--model", "nope")
    assert result.code == 1
    assert result.err.count("\n") == 1 and "The model `nope` does not exist" in result.err
    assert "does not exist" not in result.out and "provider error" not in result.out


def test_claude_model_goes_to_anthropic_and_the_banner_says_so(fake_server: FakeLLMServer) -> None:
    """--model claude-* without --provider is an Anthropic chat: banner, --base-url, --api-key and requests agree."""
    fake_server.enqueue(Reply(text="Hello from Claude."))
    result = run_cli(["chat", "--model", "claude-3-5-haiku-latest", "--base-url", fake_server.anthropic_base_url,
                      "--api-key", "k"], stdin="hi\n")
    assert result.code == 0, result.err
    assert "claude-3-5-haiku-latest via anthropic" in result.out and "Hello from Claude." in result.out
    assert fake_server.last_request.path == "/v1/messages"


def test_claude_model_without_a_key_names_the_flag(tmp_path: Path) -> None:
    """A missing Anthropic key is reported with the CLI's words (--api-key), never the SDK's anthropic_api_key=."""
    plain = run_cli(["chat", "--model", "claude-3-5-haiku-latest"], stdin="hi\n")
    assert plain.code == 1 and plain.err.count("\n") == 1
    assert "no API key for anthropic: pass --api-key or set ANTHROPIC_API_KEY" in plain.err
    config = tmp_path / "deepsentinel.yaml"
    config.write_text("openai_api_key: test-key\n", encoding="utf-8")
    configured = run_cli(["chat", "--config", str(config), "--model", "claude-3-5-haiku-latest"], stdin="hi\n")
    assert configured.code == 1 and "via anthropic" in configured.out
    assert "pass --api-key or set ANTHROPIC_API_KEY" in configured.err and "anthropic_api_key=" not in configured.err


def test_help_shows_the_defaults() -> None:
    """chat --help names each default; none is swallowed as a markup tag."""
    result = run_cli(["chat", "--help"])
    text = " ".join(result.out.replace("│", " ").split())
    assert "(default: $DEEPSENTINEL_MODEL, else gpt-4o-mini; claude-3-5-haiku-latest for anthropic)" in text
    assert "(default: $OPENAI_API_KEY, or $ANTHROPIC_API_KEY for anthropic)" in text
    assert "Model name ." not in text and "Provider key ." not in text


def test_config_file_defines_the_provider(tmp_path: Path) -> None:
    """A config file can name an OpenAI-compatible provider, make it the default and set the policy."""
    with FakeLLMServer(models=["qwen2.5"]) as local:
        config = tmp_path / "deepsentinel.yaml"
        config.write_text(
            f"default_provider: local\nproviders:\n  local:\n    kind: openai\n    base_url: {local.openai_base_url}\n"
            "compliance_policies:\n  - name: from-file\n    max_risk_score: 0.5\n",
            encoding="utf-8",
        )
        local.enqueue(Reply(text="Configured."))
        result = run_cli(["chat", "--config", str(config), "--model", "qwen2.5", "--no-audit"], stdin="hi\n/policy\n")
        assert local.request_count("/v1/chat/completions") == 1
    assert result.code == 0 and "Configured." in result.out
    assert "via local" in result.out and "from-file" in result.out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["chat", "--base-url", "localhost:11434"], 2, "--base-url must start with http://"),
        (["chat", "--provider", "mistral"], 2, "unknown provider 'mistral'"),
        (["chat", "--config", "missing.yaml"], 1, "cannot read config file missing.yaml"),
        (["chat", "--temperature", "1"], 2, "No such option: --temperature"),
    ],
)
def test_chat_usage_errors(args: list[str], code: int, message: str) -> None:
    """Bad flags and unreadable config files are one line with the right exit code."""
    result = run_cli(args, stdin="")
    assert result.code == code and result.err.count("\n") == 1 and message in result.err


def test_the_reason_comes_from_the_error_when_it_carries_one() -> None:
    """When the client chains the OS error, its reason is used as is and nothing is probed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"  # a probe would say "Connection refused"
        try:
            try:
                raise ConnectionResetError(104, "Connection reset by peer")
            except OSError as os_error:
                raise RuntimeError("[openai] could not reach openai: ConnectError") from os_error
        except RuntimeError as error:
            line = explain(error, url, unreachable=True)
    assert line == f"[openai] could not reach openai: ConnectError ({url}: Connection reset by peer)"
