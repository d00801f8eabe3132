"""Row 6, the HTTP bridge: our ``chat-to-responses serve`` and LiteLLM's proxy over one fake upstream.

Three processes on 127.0.0.1 besides the bridge under test: this one (the client), the fake upstream
(``python benchmarks/bridge.py upstream``, a plain asyncio HTTP/1.1 server so it costs next to nothing) and
the bridge. The client is a minimal asyncio HTTP/1.1 client for the same reason: every contestant shares
the two cores with it, and a heavy client would hide the difference between bridges.

The upstream answers ``POST /v1/chat/completions`` by the request's ``model``:

- ``burst``: a recorded stream (``fixtures/chat-streams``), every chunk written at once, as fast as the
  socket takes it. Used for time to first event, whole-stream time and streams per second.
- ``paced``: ``PACED_CHUNKS`` text chunks ``PACED_GAP`` apart, each text ``<t>`` holding the
  ``time.monotonic_ns()`` at which the upstream wrote it (one clock for all processes on Linux). The
  client reads the stamps back out of the bridge's delta events: per-event latency, upstream write to
  client read, without the queueing a burst would add.

"Direct" is the client calling the upstream itself: the figures for a bridge are its added cost over that.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BURST_FIXTURE = ROOT / "fixtures" / "chat-streams" / "openai" / "text_usage_service_tier_obfuscation.jsonl"
PACED_CHUNKS = 50
PACED_GAP = 0.004  # seconds between paced chunks: far above any bridge's per-chunk cost, so no queueing
STAMP = re.compile(rb"<(\d+)>")
# The key every client request carries: LiteLLM's master key (it refuses to start without a strong one); our
# bridge passes it through to the fake upstream, which ignores it.
BENCH_KEY = "sk-bench-2f6c1e0b9a8d47f3b5c4e2a1d0f9e8c7"


# ------------------------------------------------------------------------------------- fake upstream


def _sse(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)


def _paced_chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-paced",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "paced",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }


async def _serve_upstream_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, burst: bytes
) -> None:
    try:
        while True:  # keep-alive: one request after another on the connection
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = json.loads(await reader.readexactly(length)) if length else {}
            if head.startswith(b"GET"):
                models = json.dumps({"object": "list", "data": [{"id": "burst", "object": "model"}]}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(models), models)
                )
            elif body.get("model") == "paced":
                writer.write(_HEAD + _http_chunk(_sse({**_paced_chunk(""), "choices": [_role_choice()]})))
                await writer.drain()
                for _ in range(PACED_CHUNKS):
                    await asyncio.sleep(PACED_GAP)
                    writer.write(_http_chunk(_sse(_paced_chunk(f"<{time.monotonic_ns()}>"))))
                    await writer.drain()
                writer.write(_http_chunk(_sse(_paced_chunk("", "stop")) + b"data: [DONE]\n\n") + b"0\r\n\r\n")
            else:
                writer.write(_HEAD + burst)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _role_choice() -> dict[str, Any]:
    return {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}


def run_upstream(port: int) -> None:
    """The fake upstream's process: serve until killed."""
    chunks = [json.loads(line) for line in BURST_FIXTURE.read_text().splitlines() if line.strip()]
    # One HTTP chunk per SSE event, as a real upstream flushes them.
    burst = b"".join(_http_chunk(_sse(c)) for c in chunks) + _http_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"

    async def main() -> None:
        server = await asyncio.start_server(
            lambda r, w: _serve_upstream_connection(r, w, burst), "127.0.0.1", port, backlog=1024
        )
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# ------------------------------------------------------------------------------------- client


@dataclass
class Stream:
    """What the client saw of one streamed request."""

    status: int = 0
    first_event: float = 0.0  # seconds from sending the request
    first_text: float = 0.0  # first event carrying text
    total: float = 0.0  # until the body ended
    ended: bool = False  # a terminal event ([DONE] / response.completed) arrived
    latencies_ns: list[int] = field(default_factory=list)  # paced: upstream write → client read, per stamp


class _Dechunker:
    """Incremental HTTP/1.1 chunked-body decoder."""

    def __init__(self) -> None:
        self._buf = b""
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = []
        while not self.done:
            line_end = self._buf.find(b"\r\n")
            if line_end < 0:
                break
            size = int(self._buf[:line_end].split(b";")[0], 16)
            if size == 0:
                self.done = True
                break
            if len(self._buf) < line_end + 2 + size + 2:
                break
            out.append(self._buf[line_end + 2 : line_end + 2 + size])
            self._buf = self._buf[line_end + 4 + size :]
        return b"".join(out)


async def stream_once(port: int, path: str, body: dict[str, Any], *, stamps: bool = False) -> Stream:
    """POST ``body`` and read the SSE answer to its end (``Connection: close``: one connection per stream)."""
    result = Stream()
    payload = json.dumps(body).encode()
    request = (
        b"POST %s HTTP/1.1\r\nhost: 127.0.0.1:%d\r\ncontent-type: application/json\r\n"
        b"authorization: Bearer %s\r\naccept: text/event-stream\r\nconnection: close\r\n"
        b"content-length: %d\r\n\r\n%s" % (path.encode(), port, BENCH_KEY.encode(), len(payload), payload)
    )
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        result.status = int(head.split(b" ", 2)[1])
        chunked = b"transfer-encoding: chunked" in head.lower()
        dechunker = _Dechunker()
        pending = b""
        while True:
            data = await reader.read(65536)
            if not data:
                break
            now_ns = time.monotonic_ns()
            text = dechunker.feed(data) if chunked else data
            if text and not result.first_event and b"data:" in text:
                result.first_event = time.perf_counter() - start
            if not result.first_text and _has_text(text):
                result.first_text = time.perf_counter() - start
            if stamps:
                pending += text
                events, _, pending = pending.rpartition(b"\n\n")
                for event in events.split(b"\n\n"):  # deltas only: later events repeat the whole text
                    if b"output_text.delta" in event or b"chat.completion.chunk" in event:
                        result.latencies_ns.extend(now_ns - int(t) for t in STAMP.findall(event))
            if b"data: [DONE]" in text or b"response.completed" in text:
                result.ended = True
            if chunked and dechunker.done:
                break
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    result.total = time.perf_counter() - start
    return result


def _has_text(data: bytes) -> bool:
    """A Responses text delta or a chat chunk with non-empty content in these bytes."""
    return re.search(rb'"delta":"[^"]|"content":"[^"]', data) is not None


# ------------------------------------------------------------------------------------- contestants


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"not listening on {port} after {timeout:.0f} s")


@contextlib.contextmanager
def _process(
    args: list[str], port: int, *, env: dict[str, str] | None = None, timeout: float = 30
) -> Iterator[None]:
    proc = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        try:
            _wait_for_port(port, proc, timeout)
        except RuntimeError as exc:
            proc.kill()
            _, err = proc.communicate()
            raise RuntimeError(f"{args[0]}: {exc}: {err.decode(errors='replace')[-600:]}") from None
        yield
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@dataclass(frozen=True)
class Contestant:
    name: str
    port: int
    path: str  # the streaming endpoint
    replicas: tuple[int, ...] = ()  # more ports of the same service: streams go round-robin (a balancer)
    store: bool = False  # each response is stored (the scale rows: the store is what replicas share)

    def body(self, model: str) -> dict[str, Any]:
        if self.path.endswith("/chat/completions"):
            return {"model": model, "messages": [{"role": "user", "content": "Hi"}], "stream": True}
        return {"model": model, "input": "Hi", "stream": True, "store": self.store}

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.port, *self.replicas)


def _ours_command(upstream: int, port: int, directory: Path) -> list[str]:
    command = [sys.executable, "-m", "chat_to_responses._cli", "serve", "--port", str(port)]
    command += ["--upstream", f"http://127.0.0.1:{upstream}/v1", "--log-level", "warning"]
    command += ["--max-streams-per-client", "1000"]  # one benchmark key opens up to 200 streams at once
    return [*command, "--store-path", str(directory / "store.sqlite3")]


# LiteLLM's proxy as documented for a local run: the master key our client sends, the model cost map from
# the package (not fetched), no telemetry, errors only in its log.
LITELLM_ENV = {
    "LITELLM_MASTER_KEY": BENCH_KEY,
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOG": "ERROR",
    "LITELLM_TELEMETRY": "False",
}


def _litellm_config(upstream: int, directory: Path) -> Path:
    lines = ["model_list:"]
    for model in ("burst", "paced"):
        lines += [
            f"  - model_name: {model}",
            "    litellm_params:",
            # custom_openai has no Responses config of its own, so LiteLLM bridges /v1/responses onto
            # chat completions (an `openai/` model would call the upstream's own /responses instead).
            f"      model: custom_openai/{model}",
            f"      api_base: http://127.0.0.1:{upstream}/v1",
            "      api_key: sk-upstream",
        ]
    path = directory / "litellm.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------------------------- measurements


def _sequential(
    contestants: list[Contestant], model: str, count: int, *, stamps: bool, block: int = 5
) -> dict[str, list[Stream]]:
    """``count`` streams one at a time per contestant, contestants taking turns ``block`` streams at a time.

    A bridge may go on working after a response (LiteLLM logs, counts tokens and costs in background
    tasks): a pause after each block lets that finish before the next contestant's turn, so none is charged
    for another's work, and the median discards the first stream of a block that still overlaps it.
    """

    async def run() -> dict[str, list[Stream]]:
        out: dict[str, list[Stream]] = {c.name: [] for c in contestants}
        for start in range(0, count, block):
            for c in contestants:
                for _ in range(min(block, count - start)):
                    out[c.name].append(await stream_once(c.port, c.path, c.body(model), stamps=stamps))
                await asyncio.sleep(0.5)
        return out

    return asyncio.run(run())


def _throughput(contestant: Contestant, concurrency: int, total: int) -> tuple[float, int]:
    """Streams per second with ``concurrency`` clients, each opening stream after stream; and failures."""

    async def run() -> tuple[float, int]:
        remaining = total
        failures = 0
        ports = contestant.ports

        async def worker() -> None:
            nonlocal remaining, failures
            while remaining > 0:
                remaining -= 1
                port = ports[remaining % len(ports)]
                try:
                    s = await stream_once(port, contestant.path, contestant.body("burst"))
                    failures += s.status != 200 or not s.ended
                except OSError:
                    failures += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - start), failures

    return asyncio.run(run())


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bridge_rows(
    *, litellm: str | None, sequential: int = 30, concurrency: tuple[int, ...] = (50, 200)
) -> list[tuple[str, str]]:
    """The bridge rows of the results table (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        upstream = _free_port()
        stack.enter_context(
            _process([sys.executable, __file__, "upstream", "--port", str(upstream)], upstream)
        )
        contestants = [Contestant("direct", upstream, "/v1/chat/completions")]
        ours = _free_port()
        stack.enter_context(_process(_ours_command(upstream, ours, Path(tmp)), ours))
        contestants.append(Contestant("ours", ours, "/v1/responses"))
        rows: list[tuple[str, str]] = []
        litellm_version = ""
        if litellm:
            port = _free_port()
            command = [litellm, "--config", str(_litellm_config(upstream, Path(tmp))), "--port", str(port)]
            command += ["--host", "127.0.0.1", "--num_workers", "1"]
            try:
                stack.enter_context(_process(command, port, env=LITELLM_ENV, timeout=180))
                litellm_version = _version_of(litellm)
                contestants.append(Contestant("litellm", port, "/v1/responses"))
            except RuntimeError as exc:
                rows.append(("bridge, LiteLLM proxy", f"skipped: it did not start ({exc})"))
        # Warm up every path (imports, pools, first-request work) before any figure is taken.
        _sequential(contestants, "burst", 3, stamps=False)
        _sequential(contestants, "paced", 1, stamps=True)
        return rows + _report(contestants, litellm_version, sequential, concurrency)


def scale_rows(
    *, concurrency: tuple[int, ...] = (50, 200), streams_per_client: int = 2, redis: bool = True
) -> list[tuple[str, str]]:
    """#16: streams per second of ``serve --workers 2`` against one worker (both on SQLite, every response
    stored), and of two replicas on one Redis, the client spreading streams over them as a round-robin
    balancer would, against one process on SQLite. On this 2-core machine the client and the fake upstream
    run on the same cores as the workers: the second worker competes with them, so the gain is a floor,
    not what a dedicated machine would show."""
    redis_server = shutil.which("redis-server") if redis else None
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        upstream = _free_port()
        stack.enter_context(
            _process([sys.executable, __file__, "upstream", "--port", str(upstream)], upstream)
        )
        contestants = []
        for name, flags in (("1 worker", []), ("2 workers", ["--workers", "2"])):
            port, directory = _free_port(), Path(tmp) / name.replace(" ", "-")
            directory.mkdir()
            stack.enter_context(_process([*_ours_command(upstream, port, directory), *flags], port))
            contestants.append(Contestant(name, port, "/v1/responses", store=True))
        if redis_server is not None:
            contestants.append(_replicas_on_redis(stack, redis_server, upstream, Path(tmp)))
        for c in contestants:  # warm up: imports, pools, every worker's first requests
            _throughput(c, 4, 16)
        rows = []
        for n in concurrency:
            total_streams = streams_per_client * n
            rates = {}
            for c in contestants:
                rates[c.name], failed = _throughput(c, n, total_streams)
                rates[c.name + " failed"] = failed
                time.sleep(1)
            figures = "; ".join(
                f"{c.name} {rates[c.name]:.1f}/s" + (f" ({rates[c.name + ' failed']:.0f} failed)"
                if rates[c.name + " failed"] else "")
                for c in contestants
            )  # fmt: skip
            ratio = rates["2 workers"] / rates["1 worker"] if rates["1 worker"] else float("nan")
            rows.append(
                (
                    f"bridge scale-out, streams per second at {n} concurrent ({total_streams} stored "
                    "streams; client, upstream and bridge share the 2 cores)",
                    f"{figures} → 2 workers {ratio:.2f}× one",
                )
            )
        if redis_server is None:
            why = "redis-server is not installed" if redis else "--no-redis"
            rows.append(("bridge scale-out, 2 replicas on one Redis", f"skipped: {why}"))
        return rows


def _replicas_on_redis(
    stack: contextlib.ExitStack, redis_server: str, upstream: int, directory: Path
) -> Contestant:
    redis_port = _free_port()
    command = [redis_server, "--bind", "127.0.0.1", "--port", str(redis_port), "--save", ""]
    stack.enter_context(_process([*command, "--appendonly", "no"], redis_port))
    ports = []
    for _ in range(2):
        port = _free_port()
        ours = _ours_command(upstream, port, directory)
        ours[ours.index("--store-path") : ours.index("--store-path") + 2] = []
        stack.enter_context(_process([*ours, "--store", f"redis://127.0.0.1:{redis_port}/0"], port))
        ports.append(port)
    return Contestant("2 replicas on Redis", ports[0], "/v1/responses", replicas=tuple(ports[1:]), store=True)


def _version_of(litellm: str) -> str:
    python = Path(litellm).parent / "python"
    out = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()


def _report(
    contestants: list[Contestant], litellm_version: str, sequential: int, concurrency: tuple[int, ...]
) -> list[tuple[str, str]]:
    """Each row: the direct figure in its name, then each bridge's added cost and ours against LiteLLM's."""
    label = {"ours": "ours", "litellm": f"LiteLLM {litellm_version}"}
    n_chunks = len(BURST_FIXTURE.read_text().splitlines())
    burst = _sequential(contestants, "burst", sequential, stamps=False)
    paced = _sequential(contestants, "paced", max(3, sequential // 6), stamps=True)

    def median_of(attr: str) -> dict[str, float]:
        return {name: _median([getattr(s, attr) for s in streams]) for name, streams in burst.items()}

    def latencies(name: str) -> list[float]:
        return [ns / 1e6 for s in paced[name] for ns in s.latencies_ns]

    first, text, total = median_of("first_event"), median_of("first_text"), median_of("total")
    added_first = {k: (v - first["direct"]) * 1e3 for k, v in first.items()}  # ms
    added_text = {k: (v - text["direct"]) * 1e3 for k, v in text.items()}
    added_total = {k: (v - total["direct"]) * 1e3 for k, v in total.items()}
    lat = {name: latencies(name) for name in paced}
    p50 = {name: _median(v) - _median(lat["direct"]) for name, v in lat.items()}
    p99 = {name: _quantile(v, 0.99) - _quantile(lat["direct"], 0.99) for name, v in lat.items()}
    rows = [
        (
            f"bridge, added time to first event ({sequential} sequential streams; direct: first chunk"
            f" after {_ms(first['direct'])})",
            _compare(label, added_first, "+{:.2f} ms", lower=True)
            + f" (first text: {_compare(label, added_text, '+{:.2f} ms')})",
        ),
        (
            f"bridge, added time to the end of a {n_chunks}-chunk stream (direct: {_ms(total['direct'])})",
            _compare(label, added_total, "+{:.2f} ms", lower=True),
        ),
        (
            f"bridge, added per-event latency, {PACED_CHUNKS} chunks {PACED_GAP * 1e3:.0f} ms apart"
            f" × {len(paced['direct'])} streams (direct: {_median(lat['direct']):.2f} ms p50)",
            _compare(label, p50, "+{:.2f} ms p50", lower=True)
            + f"; p99: {_compare(label, p99, '+{:.2f} ms')}",
        ),
    ]
    for n in concurrency:
        total_streams = 2 * n
        rates: dict[str, float] = {}
        failures = []
        for c in contestants:
            rates[c.name], failed = _throughput(c, n, total_streams)
            if failed:
                failures.append(f"{label.get(c.name, c.name)}: {failed} failed")
            time.sleep(1)  # as in _sequential: let the bridge finish its after-response work
        rows.append(
            (
                f"bridge, streams per second at {n} concurrent ({total_streams} streams of {n_chunks} chunks;"
                f" direct {rates['direct']:.0f}/s)",
                _compare(label, rates, "{:.1f}/s", lower=False)
                + (f" ({'; '.join(failures)})" if failures else ""),
            )
        )
    return rows


def _compare(label: dict[str, str], values: dict[str, float], fmt: str, *, lower: bool | None = None) -> str:
    """``ours X; LiteLLM Y`` and, when ``lower`` says which way is better, how many times better ours is."""
    text = "; ".join(f"{label[name]} {fmt.format(values[name])}" for name in label if name in values)
    if lower is None or "litellm" not in values or min(values["ours"], values["litellm"]) <= 0:
        return text
    ratio = values["litellm"] / values["ours"] if lower else values["ours"] / values["litellm"]
    return f"{text} → ours {ratio:.1f}× {'less' if lower else 'more'}"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upstream", help="run the fake upstream")
    up.add_argument("--port", type=int, required=True)
    rows = sub.add_parser("rows", help="print the bridge rows")
    rows.add_argument("--litellm", help="path to the `litellm` command (its own virtualenv)")
    rows.add_argument("--sequential", type=int, default=30)
    scale = sub.add_parser(
        "scale", help="print the scale-out rows (--workers 2 against 1, replicas on Redis)"
    )
    scale.add_argument("--concurrency", type=int, nargs="+", default=[50, 200])
    scale.add_argument("--streams-per-client", type=int, default=2)
    scale.add_argument("--no-redis", action="store_true", help="skip the replicas on Redis")
    args = parser.parse_args()
    if args.command == "upstream":
        run_upstream(args.port)
    elif args.command == "scale":
        rows_out = scale_rows(
            concurrency=tuple(args.concurrency),
            streams_per_client=args.streams_per_client,
            redis=not args.no_redis,
        )
        for name, value in rows_out:
            print(f"{name}: {value}")
    else:
        for name, value in bridge_rows(litellm=args.litellm, sequential=args.sequential):
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
