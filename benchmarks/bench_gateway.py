"""What the gateway adds: direct calls to a mock upstream vs the same calls through ``deepsentinel serve``.

    python benchmarks/bench_gateway.py [--calls 400] [--streams 30] [--seconds 5] [--litellm PATH]

One gateway worker (a cold process, audit on, SQLite), a mock OpenAI upstream in its own process on loopback
(asyncio, keep-alive; every answer is fresh text), and this process as the client. In the same run:

- non-streamed latency at concurrency 1, direct and through the gateway interleaved, with an A/A row
  (direct vs direct) showing the noise floor and an "sdk" row (direct, through the SDK's own guard in this
  process, auditing to SQLite like the gateway: the guard's cost without the extra hop); added p50/p99 =
  target minus direct, per round; "hop" = gateway minus sdk, per round (what the gateway adds to the guard);
- requests/s at concurrency 16, ``--seconds`` per target split into 5 rounds in a rotating order (median of
  the rounds, and the gateway/LiteLLM ratio per round: a single window moved with the other agents' load);
  direct is the ceiling. With them, **requests per CPU-second of the proxy** (its process and any children,
  from ``/proc``): on a machine whose cores the client and the mock share with the proxy, a faster proxy gets
  less of a core (they take more at its higher rate), so the rate per second of CPU it used is the
  per-core figure; both are printed;
- a 200-chunk stream, read to the end: total time direct vs through the gateway, added p50;
- LiteLLM's proxy the same way when ``--litellm`` names a ``litellm`` executable (one worker, no guardrail).
  Its latency is measured in a block of its own, interleaved with direct calls, after ours: its work after each
  answer (logging, spend tracking) ran on into the calls that followed it and added 0.3-0.5 ms to the
  gateway's p50 on this 2-core machine when the blocks were one. Its own block's direct rows absorb that
  instead, which flatters LiteLLM's added latency, if anything.

Fresh prompts every call (a counter and random words), never one text repeated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

from deepsentinel.sentinel import Sentinel
from deepsentinel.transport import SentinelTransport

WORDS = ["river", "mountain", "cloud", "lantern", "orchard", "harbor", "meadow", "copper", "violet", "engine", "garden", "signal", "window"]
KEY = "sk-bench-client-" + "x" * 32  # LiteLLM wants its master key to start with sk-


# The mock upstream ---------------------------------------------------------------------------------------
def _answer(n: int, stream: bool) -> list[bytes]:
    """The reply as the writes a provider makes: one for a JSON body, one per event for a stream."""
    rng = random.Random(n)
    if not stream:
        text = " ".join(rng.choice(WORDS) for _ in range(40)) + f" answer {n}."
        body = json.dumps({"id": f"c{n}", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 10, "completion_tokens": 40, "total_tokens": 50}}).encode()
        return [b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)]
    events = []
    for i in range(200):
        chunk = {"id": f"c{n}", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
                 "choices": [{"index": 0, "delta": {"content": rng.choice(WORDS) + " "}, "finish_reason": None}]}
        if i == 199:
            chunk["choices"][0]["finish_reason"] = "stop"  # type: ignore[index]
        events.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    out = [b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"]
    out += [b"%x\r\n%s\r\n" % (len(e), e) for e in events]
    return [*out, b"0\r\n\r\n"]


async def _mock(port: int) -> None:
    counter = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal counter
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                counter += 1
                for piece in _answer(counter, b'"stream": true' in body or b'"stream":true' in body):
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0)  # one write per event reaches the socket on its own, as a provider's would
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


# Processes -----------------------------------------------------------------------------------------------
def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def _wait(url: str) -> None:
    deadline = time.monotonic() + 600  # LiteLLM takes a while to import
    while time.monotonic() < deadline:
        try:
            httpx2.get(url, timeout=1)
            return
        except httpx2.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# Measurements --------------------------------------------------------------------------------------------
def _body(n: int, stream: bool = False) -> dict[str, object]:
    rng = random.Random(n * 7919)
    prompt = f"Question {n}: " + " ".join(rng.choice(WORDS) for _ in range(12))
    return {"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": prompt}]}


def _timed(client: httpx2.Client, url: str, body: dict[str, object]) -> float:
    started = time.perf_counter()
    with client.stream("POST", url + "/chat/completions", json=body, headers={"authorization": f"Bearer {KEY}"}) as r:
        for _ in r.iter_raw():
            pass
        assert r.status_code == 200, r.status_code
    return time.perf_counter() - started


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(targets: dict[str, str], calls: int, stream: bool, counter: list[int], audit: str | bool) -> dict[str, list[float]]:
    """Per target, one call each round, in a rotating order; every call a fresh prompt. The target "sdk" is
    the direct URL through the SDK's own guard (``SentinelTransport``, auditing to ``audit`` as the gateway
    does): the guard's cost without the hop."""
    times: dict[str, list[float]] = {name: [] for name in targets}
    names = list(targets)
    sentinel = Sentinel(audit=audit, openai_api_key="sk-bench")
    with httpx2.Client(timeout=60) as client, httpx2.Client(
            timeout=60, transport=SentinelTransport(sentinel, httpx2.HTTPTransport())) as guarded:
        def one(name: str) -> float:
            counter[0] += 1
            if name != "sdk":
                return _timed(client, targets[name], _body(counter[0], stream))
            took = _timed(guarded, targets[name], _body(counter[0], stream))
            # Untimed: the call's audit record is built and written on this process's writer thread, which
            # would otherwise run during the next target's call (the direct row's) and slow our baseline.
            if sentinel.store is not None:
                sentinel.store.flush()
            return took

        for name in names:  # warm the connections
            one(name)
        for i in range(calls):
            order = names[i % len(names):] + names[:i % len(names)]
            for name in order:
                times[name].append(one(name))
    sentinel.close()
    return times


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and every process below it."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while we looked
            continue
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier += children
    return sum(ticks.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


async def _throughput(url: str, seconds: float, concurrency: int, counter: list[int]) -> float:
    done = 0
    stop = time.perf_counter() + seconds
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as client:
        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                counter[0] += 1
                r = await client.post(url + "/chat/completions", json=_body(counter[0]),
                                      headers={"authorization": f"Bearer {KEY}"})
                assert r.status_code == 200, r.status_code
                done += 1
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - started)


def _rows(block: dict[str, list[float]], label: str = "") -> None:
    """Each target's p50/p99 and what it adds to the direct calls of the same block, per round."""
    base = block["direct"]
    for name, values in block.items():
        if name == "direct":
            continue
        added = [(v - d) * 1000 for v, d in zip(values, base, strict=True)]
        print(f"  {name:14s} p50 {statistics.median(values) * 1000:6.2f}  p99 {_pct(values, 0.99) * 1000:6.2f}"
              f"  added p50 {statistics.median(added):6.2f}  added p99 {_pct(added, 0.99):6.2f}")
    print(f"  {'direct':14s} p50 {statistics.median(base) * 1000:6.2f}  p99 {_pct(base, 0.99) * 1000:6.2f}"
          + (f"  ({label})" if label else ""))


def _hop(times: dict[str, list[float]]) -> None:
    """What the gateway adds on top of the same guard in the client: gateway minus sdk, per round."""
    hop = [(g - s) * 1000 for g, s in zip(times["gateway"], times["sdk"], strict=True)]
    print(f"  {'hop (gw - sdk)':14s} p50 {statistics.median(hop):6.2f}  p99 {_pct(hop, 0.99):6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--streams", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--no-audit", action="store_true", help="run the gateway with DEEPSENTINEL_AUDIT=false")
    parser.add_argument("--litellm", help="path of a litellm executable (from a throwaway venv), for a baseline")
    args = parser.parse_args()

    procs: list[subprocess.Popen[bytes]] = []
    mock_port = _free_port()
    procs.append(subprocess.Popen([sys.executable, __file__, "--mock", str(mock_port)]))
    tmp = tempfile.mkdtemp(prefix="bench-gateway-")
    gw_port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "DEEPSENTINEL_"))}
    env.update({"OPENAI_BASE_URL": f"http://127.0.0.1:{mock_port}/v1", "OPENAI_API_KEY": "sk-bench",
                "DEEPSENTINEL_GATEWAY_KEYS": f"bench={KEY}", "DEEPSENTINEL_AUDIT_PATH": f"{tmp}/audit.sqlite3"})
    if args.no_audit:
        env["DEEPSENTINEL_AUDIT"] = "false"
    gateway = subprocess.Popen([sys.executable, "-m", "deepsentinel", "serve", "--port", str(gw_port),
                                "--log-level", "warning"], env=env)
    procs.append(gateway)
    pids = {"gateway": gateway.pid}
    targets = {"direct": f"http://127.0.0.1:{mock_port}/v1", "gateway": f"http://127.0.0.1:{gw_port}/v1"}
    if args.litellm:
        lt_port = _free_port()
        config = Path(tmp) / "litellm.yaml"
        config.write_text("model_list:\n  - model_name: gpt-4o-mini\n    litellm_params:\n      model: openai/gpt-4o-mini\n"
                          f"      api_base: http://127.0.0.1:{mock_port}/v1\n      api_key: sk-bench\n")
        lt_env = {**env, "LITELLM_MASTER_KEY": KEY, "LITELLM_LOG": "ERROR"}
        procs.append(subprocess.Popen([args.litellm, "--config", str(config), "--port", str(lt_port), "--num_workers", "1"],
                                      env=lt_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        pids["litellm"] = procs[-1].pid
        targets["litellm"] = f"http://127.0.0.1:{lt_port}/v1"
    try:
        health = {"direct": "/", "gateway": "/healthz", "litellm": "/health/liveliness"}
        for name, url in targets.items():
            _wait(url.removesuffix("/v1") + health[name])
        counter = [0]
        extra = {"direct (A/A)": targets["direct"], "sdk": targets["direct"]}
        sdk_audit: str | bool = False if args.no_audit else f"{tmp}/sdk-audit.sqlite3"
        ours = {name: url for name, url in targets.items() if name != "litellm"}
        plain = latency({**ours, **extra}, args.calls, False, counter, sdk_audit)
        print(f"non-streamed, concurrency 1, {args.calls} calls per target (ms)")
        _rows(plain)
        _hop(plain)
        if "litellm" in targets:
            _rows(latency({"direct": targets["direct"], "litellm": targets["litellm"]}, args.calls, False, counter,
                          False), "litellm's block")
        streams = latency({**ours, "sdk": targets["direct"]}, args.streams, True, counter, sdk_audit)
        print(f"200-chunk stream read to the end, {args.streams} per target (ms)")
        _rows(streams)
        _hop(streams)
        if "litellm" in targets:
            _rows(latency({"direct": targets["direct"], "litellm": targets["litellm"]}, args.streams, True, counter,
                          False), "litellm's block")
        print(f"requests/s at concurrency 16, {args.seconds:.0f} s per target in 5 rounds (median, min-max)")
        rates: dict[str, list[float]] = {name: [] for name in targets}
        per_cpu: dict[str, list[float]] = {name: [] for name in targets if name != "direct"}
        names = list(targets)
        for i in range(5):
            for name in names[i % len(names):] + names[:i % len(names)]:
                cpu = _tree_cpu(pids[name]) if name in per_cpu else 0.0
                started = time.perf_counter()
                rate = asyncio.run(_throughput(targets[name], args.seconds / 5, 16, counter))
                rates[name].append(rate)
                if name in per_cpu:
                    wall = time.perf_counter() - started
                    per_cpu[name].append(rate * wall / max(1e-3, _tree_cpu(pids[name]) - cpu))
        for name, values in rates.items():
            print(f"  {name:14s} {statistics.median(values):8.0f}  ({min(values):.0f}-{max(values):.0f})")
        if "litellm" in rates:
            ratios = [g / lt for g, lt in zip(rates["gateway"], rates["litellm"], strict=True)]
            print(f"  {'gateway/litellm':14s} {statistics.median(ratios):8.1f}x ({min(ratios):.1f}-{max(ratios):.1f})")
        print("requests per CPU-second of the proxy (per core), same rounds (median, min-max)")
        for name, values in per_cpu.items():
            print(f"  {name:14s} {statistics.median(values):8.0f}  ({min(values):.0f}-{max(values):.0f})")
        if "litellm" in per_cpu:
            ratios = [g / lt for g, lt in zip(per_cpu["gateway"], per_cpu["litellm"], strict=True)]
            print(f"  {'gateway/litellm':14s} {statistics.median(ratios):8.1f}x ({min(ratios):.1f}-{max(ratios):.1f})")
        print(f"gateway peak RSS {_rss_kb(gateway.pid) / 1024:.0f} MiB; client peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; {os.cpu_count()} cores, shared")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--mock":
        asyncio.run(_mock(int(sys.argv[2])))
    else:
        main()
