"""``deepsentinel scan``: files, trees, stdin, every output format, exit codes and anonymized output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli_runner import run_cli

SSN = "123-45-" + "6789"
CARD = "4111 1111 " + "1111 1111"
EMAIL = "jane.doe" + "@example.com"


def _tree(root: Path) -> Path:
    """A small project: findings in src/, ignored copies in .git and node_modules, a binary file."""
    (root / "src").mkdir()
    (root / "src" / "notes.txt").write_text(f"hello\nmy ssn is {SSN} and mail {EMAIL}\n", encoding="utf-8")
    (root / "src" / "pay.log").write_text(f"card {CARD}\n", encoding="utf-8")
    (root / "src" / "clean.md").write_text("nothing to see here\n", encoding="utf-8")
    (root / "src" / "blob.bin").write_bytes(b"\x00\x01" + SSN.encode())
    for ignored in (".git", "node_modules"):
        (root / ignored).mkdir()
        (root / ignored / "copy.txt").write_text(SSN, encoding="utf-8")
    return root


def test_table_shows_location_and_masked_values_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table names file:line:col, type, category and severity, with masked values and never a raw one."""
    monkeypatch.chdir(_tree(tmp_path))
    result = run_cli(["scan", "."])
    assert result.code == 1  # a critical finding is above the default --fail-on high
    assert "src/notes.txt:2:11" in result.out and "US_SSN" in result.out and "critical" in result.out
    assert "src/pay.log:1:6" in result.out and "CREDIT_CARD" in result.out
    assert "***-**-6789" in result.out
    for raw in (SSN, CARD, EMAIL):
        assert raw not in result.out and raw not in result.err
    assert ".git" not in result.out and "node_modules" not in result.out and "blob.bin" not in result.out


def test_json_output_parses_and_counts(tmp_path: Path) -> None:
    """JSON has a summary and one record per finding, with 1-based positions."""
    _tree(tmp_path)
    result = run_cli(["scan", str(tmp_path / "src"), "--format", "json"])
    doc = json.loads(result.out)
    types = sorted(f["type"] for f in doc["findings"])
    assert types == ["CREDIT_CARD", "EMAIL_ADDRESS", "US_SSN"]
    ssn = next(f for f in doc["findings"] if f["type"] == "US_SSN")
    assert (ssn["line"], ssn["column"], ssn["end_column"]) == (2, 11, 22)
    assert ssn["severity"] == "critical" and ssn["category"] == "PII" and ssn["masked"] == "***-**-6789"
    assert doc["summary"]["files_scanned"] == 3 and doc["summary"]["files_skipped"] == 1
    assert doc["summary"]["failed"] is True
    assert SSN not in result.out and EMAIL not in result.out


def test_jsonl_and_exclude_globs(tmp_path: Path) -> None:
    """--exclude drops matching files; JSONL has one parseable object per line."""
    _tree(tmp_path)
    result = run_cli(["scan", str(tmp_path / "src"), "-f", "jsonl", "--exclude", "*.log"])
    records = [json.loads(line) for line in result.out.splitlines()]
    assert {r["type"] for r in records} == {"US_SSN", "EMAIL_ADDRESS"}
    assert all(r["path"].endswith("notes.txt") for r in records)


def test_sarif_has_the_shape_code_scanning_expects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SARIF 2.1.0: a driver with rules, results with ruleId, level and a physical location."""
    monkeypatch.chdir(_tree(tmp_path))
    doc = json.loads(run_cli(["scan", "src", "--format", "sarif"]).out)
    assert doc["version"] == "2.1.0" and "sarif-2.1.0" in doc["$schema"]
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "DeepSentinel"
    assert {r["id"] for r in rules} == {"US_SSN", "EMAIL_ADDRESS", "CREDIT_CARD"}
    by_rule = {r["ruleId"]: r for r in run["results"]}
    ssn = by_rule["US_SSN"]
    assert ssn["level"] == "error" and by_rule["EMAIL_ADDRESS"]["level"] == "note"
    assert rules[ssn["ruleIndex"]]["id"] == "US_SSN"
    loc = ssn["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "src/notes.txt"
    assert loc["region"]["startLine"] == 2 and loc["region"]["startColumn"] == 11
    assert SSN not in json.dumps(doc)


@pytest.mark.parametrize(
    ("fail_on", "text", "code"),
    [
        ("high", f"ssn {SSN}", 1),
        ("high", f"mail {EMAIL}", 0),
        ("low", f"mail {EMAIL}", 1),
        ("critical", f"ssn {SSN}", 1),
        ("none", f"ssn {SSN}", 0),
        ("low", "nothing sensitive at all", 0),
    ],
)
def test_exit_code_follows_fail_on(fail_on: str, text: str, code: int) -> None:
    """Exit 1 exactly when a finding reaches the --fail-on severity, so it can gate a commit or a build."""
    assert run_cli(["scan", "--fail-on", fail_on], stdin=text).code == code


def test_stdin_with_dash_and_location_name() -> None:
    """'-' reads stdin, and findings are reported against <stdin>."""
    result = run_cli(["scan", "-", "-f", "jsonl"], stdin=f"x\ncall {SSN}\n")
    (record,) = [json.loads(line) for line in result.out.splitlines()]
    assert record["path"] == "<stdin>" and record["line"] == 2 and record["column"] == 6


def test_anonymize_stdin_writes_redacted_text_to_stdout_and_report_to_stderr() -> None:
    """With --anonymize on stdin, stdout carries only the redacted text; the report moves to stderr."""
    result = run_cli(["scan", "--anonymize", "--fail-on", "none"], stdin=f"ssn {SSN}, mail {EMAIL}\n")
    assert result.out == "ssn [US_SSN], mail [EMAIL_ADDRESS]\n"
    assert "2 finding(s)" in result.err
    assert SSN not in result.err and EMAIL not in result.err


def test_anonymize_to_output_dir_and_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--output mirrors the tree with values replaced; --in-place rewrites only files with findings."""
    monkeypatch.chdir(_tree(tmp_path))
    out = run_cli(["scan", "src", "--anonymize", "--strategy", "mask", "--output", "clean", "--fail-on", "none"])
    assert out.code == 0
    cleaned = (tmp_path / "clean" / "src" / "notes.txt").read_text(encoding="utf-8")
    assert SSN not in cleaned and EMAIL not in cleaned and "***-**-6789" in cleaned
    assert (tmp_path / "clean" / "src" / "clean.md").read_text(encoding="utf-8") == "nothing to see here\n"
    clean_before = (tmp_path / "src" / "clean.md").stat().st_mtime_ns
    run_cli(["scan", "src", "--anonymize", "--in-place"])
    assert CARD not in (tmp_path / "src" / "pay.log").read_text(encoding="utf-8")
    assert (tmp_path / "src" / "notes.txt").read_text(encoding="utf-8") == "hello\nmy ssn is [US_SSN] and mail [EMAIL_ADDRESS]\n"
    assert (tmp_path / "src" / "clean.md").stat().st_mtime_ns == clean_before


def test_policy_preset_changes_what_is_reported() -> None:
    """--policy pci_dss reports cards and ignores other categories."""
    result = run_cli(["scan", "--policy", "pci_dss", "-f", "jsonl", "--fail-on", "none"], stdin=f"{SSN} and {CARD}")
    assert [json.loads(line)["type"] for line in result.out.splitlines()] == ["CREDIT_CARD"]


def test_policy_file(tmp_path: Path) -> None:
    """A YAML policy file that allows emails removes them from the report."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: team\nentity_actions:\n  EMAIL_ADDRESS: allow\n", encoding="utf-8")
    result = run_cli(["scan", "--policy", str(policy), "-f", "jsonl"], stdin=f"{EMAIL} {SSN}")
    records = [json.loads(line) for line in result.out.splitlines()]
    assert [(r["type"], r["policy"]) for r in records] == [("US_SSN", "team")]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["scan", "does-not-exist"], 1, "no such file or directory: does-not-exist"),
        (["scan", "--format", "xml", "-"], 2, "'xml' is not one of"),
        (["scan", "--bogus"], 2, "No such option: --bogus"),
        (["scan", "x", "--in-place"], 2, "only apply with --anonymize"),
        (["scan", "--policy", "nope"], 2, "unknown preset 'nope'"),
        (["scan", "--policy", "missing.yaml"], 1, "cannot read policy file missing.yaml"),
    ],
)
def test_errors_are_one_line_with_exit_code(args: list[str], code: int, message: str) -> None:
    """Bad flags exit 2 and failures exit 1, each with a single 'deepsentinel: error:' line and no traceback."""
    result = run_cli(args, stdin="hello")
    assert result.code == code
    assert result.err.count("\n") == 1 and result.err.startswith("deepsentinel: error: ")
    assert message in result.err and "Traceback" not in result.err


def test_unreadable_file_named_is_an_error_but_skipped_in_a_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A named file that cannot be read fails in one line; inside a directory it is skipped with a note."""
    _tree(tmp_path)
    locked = tmp_path / "src" / "notes.txt"
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == locked.name:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    named = run_cli(["scan", str(locked)])
    assert named.code == 1 and named.err.strip() == f"deepsentinel: error: cannot read {locked.as_posix()}: Permission denied"
    walked = run_cli(["scan", str(tmp_path / "src"), "-f", "json"])
    assert "notes.txt: unreadable (Permission denied)" in walked.err
    assert json.loads(walked.out)["summary"]["files_skipped"] == 2  # the locked file and the binary one


@pytest.mark.parametrize(
    ("term", "tty", "bar"),
    [("xterm-256color", True, True), ("dumb", True, False), ("xterm-256color", False, False), (None, False, False)],
)
def test_progress_bar_only_on_a_terminal_that_can_redraw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, term: str | None, tty: bool, bar: bool
) -> None:
    """Many inputs get a progress bar on a terminal; none when piped or on TERM=dumb, and no stray output there."""
    for i in range(60):
        (tmp_path / f"f{i:02}.txt").write_text(f"line {i}\n", encoding="utf-8")
    for name in ("TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR", "NO_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)  # the developer's own terminal settings must not decide
    if term is not None:
        monkeypatch.setenv("TERM", term)
    if tty:
        monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich treats the stream as a terminal
    result = run_cli(["scan", str(tmp_path), "-f", "json"])
    assert ("scanning" in result.err) is bar
    if not bar:
        assert result.err == ""
    assert json.loads(result.out)["summary"]["files_scanned"] == 60


@pytest.mark.parametrize(
    ("make", "args", "reason"),
    [
        (lambda p: p.write_bytes(b"PNG\x00\x01" + SSN.encode()), [], "binary (a NUL byte in its first 8 KiB"),
        (lambda p: p.write_text("x" * 3 * 1024 * 1024, encoding="utf-8"), ["--max-size", "1"],
         "3 MiB, larger than --max-size 1 MiB"),
        (lambda p: p.write_text("x" * 700 * 1024, encoding="utf-8"), ["--max-size", "0.5"],
         "0.684 MiB, larger than --max-size 0.5 MiB"),
    ],
    ids=["binary", "too-large", "fraction-of-a-mib"],
)
def test_a_named_file_that_cannot_be_scanned_fails_with_its_reason(
    tmp_path: Path, make: Any, args: list[str], reason: str
) -> None:
    """A file named on the command line and not scanned is never "ok": exit 1, its reason on stderr."""
    named = tmp_path / "input.dat"
    make(named)
    result = run_cli(["scan", str(named), *args])
    assert result.code == 1
    assert f"deepsentinel: error: not scanned: {named.as_posix()}: {reason}" in result.err
    assert "ok" not in result.out and "fail (1 named input(s) not scanned)" in result.out
    as_json = json.loads(run_cli(["scan", str(named), "-f", "json", *args]).out)["summary"]
    assert as_json["failed"] is True and as_json["not_scanned"] == 1
    assert as_json["skipped"] == [{"path": named.as_posix(), "reason": result.err.split(": ", 4)[-1].strip(), "named": True}]


def test_binary_stdin_fails_but_binaries_in_a_tree_are_only_counted(tmp_path: Path) -> None:
    """Piped binary input was asked for, so it fails; a binary met in a directory walk is skipped quietly."""
    piped = run_cli(["scan"], stdin=b"\x00\x01\x02")
    assert piped.code == 1 and "not scanned: <stdin>: binary" in piped.err
    _tree(tmp_path)
    (tmp_path / "src" / "pay.log").unlink()
    (tmp_path / "src" / "notes.txt").write_text("hello\n", encoding="utf-8")
    walked = run_cli(["scan", str(tmp_path / "src")])
    assert walked.code == 0 and walked.err == "" and "1 skipped; ok" in walked.out


_filler = st.text(alphabet=st.sampled_from(list("abc xyz.,:;\n\t-")), max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=_filler, after=_filler, fmt=st.sampled_from(["table", "json", "jsonl", "sarif"]))
def test_no_format_ever_prints_a_raw_value(before: str, after: str, fmt: str) -> None:
    """Whatever surrounds them, the raw SSN and card never appear in any report format."""
    result = run_cli(["scan", "-f", fmt, "--fail-on", "none"], stdin=f"{before} {SSN} {after} {CARD} {before}")
    assert result.code == 0
    assert SSN not in result.out + result.err and CARD not in result.out + result.err
    assert "6789" in result.out  # masked values keep the last four digits, so the finding is visible


@pytest.mark.parametrize(("text", "left"), [
    (f'card = "{CARD}"  # deepsentinel: allow\nssn {SSN}\n', ["US_SSN"]),
    (f"// DeepSentinel: allow-next-line\nssn {SSN}\ncard {CARD}\n", ["CREDIT_CARD"]),
    (f"<!-- deepsentinel: allow -->\nssn {SSN}\n", ["US_SSN"]),  # the marker covers its own line only
    (f'card = "{CARD[:9]}\n{CARD[10:]}"  # deepsentinel: allow\n', []),  # any line of a value split over two
])
def test_an_allow_marker_keeps_its_line_out_of_the_report(text: str, left: list[str]) -> None:
    """`deepsentinel: allow` on a line (or `allow-next-line` above it), in any comment syntax, drops its findings."""
    result = run_cli(["scan", "-", "-f", "jsonl"], stdin=text)
    assert sorted(json.loads(line)["type"] for line in result.out.splitlines()) == left
    assert result.code == (1 if left else 0)


def test_an_allowed_line_is_left_as_is_by_anonymize() -> None:
    """With --anonymize, a value on an allowed line is kept: the marker says it is meant to be there."""
    result = run_cli(["scan", "-", "--anonymize"], stdin=f"{SSN}  # deepsentinel: allow\n{SSN}\n")
    assert result.out.splitlines()[0].startswith(SSN) and SSN not in result.out.splitlines()[1]


def test_this_projects_own_source_passes_its_own_hook() -> None:
    """The shipped pre-commit hook must not block ordinary commits: code identifiers are no secrets, and the
    documentation's examples carry the allow marker (issue 11: 71 critical findings on this source)."""
    src = Path(__file__).resolve().parents[1] / "src"
    result = run_cli(["scan", str(src), "--format", "jsonl"])
    assert result.code == 0, result.err[-2000:]
    rows = [json.loads(line) for line in result.lines if line.startswith("{")]
    assert rows  # it did scan: the medium and low examples (phones, e-mails, addresses) are still reported
    assert not [r for r in rows if r["severity"] in ("high", "critical")]
