"""Benchmarks: every figure is a ratio measured in this one run, contestants alternating.

    nox -s benchmarks                  # prints the table; or: python benchmarks/run.py [--rounds N]
    nox -s benchmarks -- --write       # also rewrites benchmarks/RESULTS.md (tracked: only when asked)

It takes about 5 minutes; a line on stderr says which benchmark runs and how long each took.

1. Typed path: ``ChatCompletionChunk`` objects (built as the openai SDK builds streamed chunks, without
   validation) → typed Responses events; ours vs openai-agents' ``ChatCmplStreamHandler``, both through
   their async ``handle_stream``, on the corpus streams agents can translate without raising. Both get the
   same chunk objects, the same async source and one event loop for all streams (see ``_run_async``).
   A third contestant, the typed floor (``_typed_floor``), shows how fast any typed path can be: read the
   content, validate one event, yield it, for every chunk.
2. Wire path: Chat Completions SSE bytes → Responses SSE bytes (``translate_sse``, what the HTTP bridge
   runs); ours vs the JSON floor (parse each chunk, write one event per chunk, same json module) and vs
   openai-agents end to end (parse, construct, translate, serialise).
3. Scaling: µs per delta at 1k, 10k and 100k deltas of text, reasoning and tool arguments.
4. Memory: peak traced memory while translating a 100k-delta text stream, over the output text's size.
5. Tool loop: three 0.3 s tools in one turn, ours against the seed library's loop.
6. Bridge: ``chat-to-responses serve`` and LiteLLM's proxy (``--litellm``: its command, in a virtualenv of
   its own) over one fake upstream on 127.0.0.1; see ``benchmarks/bridge.py``.
7. In-process client: ``responses_client`` against the same request through ``serve`` on 127.0.0.1; see
   ``benchmarks/inprocess.py``.

``--write`` also writes ``benchmarks/RESULTS.md`` with the machine, the command, the date and any
``--note``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import logging
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from openai.types.chat import ChatCompletionChunk
from openai.types.responses import Response, ResponseTextDeltaEvent

from chat_to_responses import ChatCmplStreamHandler, SequentialIds, read_chunk_file, to_event_model
from chat_to_responses._chunks import read_chunk, read_plain_part
from chat_to_responses._sse import encode_chat_sse
from chat_to_responses._translator import StreamTranslator
from chat_to_responses._wire import translate_sse

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "chat-streams"


def _placeholder() -> Response:
    return Response(
        id="__fake_id__",
        created_at=0,
        model="m",
        object="response",
        output=[],
        tool_choice="auto",
        top_p=None,
        temperature=None,
        tools=[],
        parallel_tool_calls=False,
    )


async def _aiter(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def _run_async(handle_stream: Callable[..., AsyncIterator[Any]], streams: list[list[Any]]) -> int:
    """Every stream through ``handle_stream``, one after another in one event loop (as a server runs).

    One loop for the whole run: ``asyncio.run`` per stream would add ~175 µs of loop set-up and tear-down
    per stream (~1.8 µs per chunk) to both contestants, work neither handler does.
    """

    async def consume() -> int:
        n = 0
        for chunks in streams:
            async for _ in handle_stream(_placeholder(), _aiter(chunks)):
                n += 1
        return n

    return asyncio.run(consume())


def _agents_handler() -> Callable[..., AsyncIterator[Any]] | None:
    try:
        from agents.models.chatcmpl_stream_handler import ChatCmplStreamHandler as AgentsHandler
    except ImportError:
        return None
    # It warns once per stream that has several choices; keep that off the terminal (and off its clock).
    logging.getLogger("openai.agents").setLevel(logging.ERROR)
    return AgentsHandler.handle_stream


def _us(seconds: float, count: int) -> str:
    return f"{seconds / count * 1e6:.2f} µs"


def _time(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _alternate(contestants: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median seconds per contestant, running them in turn each round so drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in contestants}
    for _ in range(rounds):
        for name, fn in contestants.items():
            gc.collect()
            times[name].append(_time(fn))
    return {name: statistics.median(t) for name, t in times.items()}


# ------------------------------------------------------------------------------------- corpus paths


def _corpus() -> list[list[dict[str, Any]]]:
    return [read_chunk_file(p) for p in sorted(CORPUS.glob("*/*.jsonl"))]


def typed_path(streams: list[list[dict[str, Any]]], rounds: int) -> list[tuple[str, str]]:
    agents = _agents_handler()
    if agents is None:
        return [("typed path", "skipped: openai-agents is not installed")]
    built = [[ChatCompletionChunk.construct(**c) for c in s] for s in streams]
    usable = []
    for chunks in built:  # agents raises on some real streams (Mistral content arrays, error objects)
        try:
            _run_async(agents, [chunks])
            usable.append(chunks)
        except Exception:
            continue
    long_text = [  # the steady state: long answers of plain text deltas, no per-stream costs to share
        [ChatCompletionChunk.construct(**c) for c in _synthetic("text", 1000)] for _ in range(9)
    ]
    return [
        _typed_row(f"typed path, {len(usable)} streams agents can run", usable, agents, rounds),
        _typed_row("typed path, 9 synthetic streams of 1000 text deltas", long_text, agents, rounds),
        _typed_stages(f"typed path, {len(usable)} streams, ours stage by stage", usable, rounds),
    ]


def _typed_stages(name: str, streams: list[list[Any]], rounds: int) -> tuple[str, str]:
    """Where our typed path's time goes: each stage run alone over the same chunks, then with the next.

    Reading (``_chunks``: the provider chunk to a vendor-neutral part), translating (the core, dict events),
    building the event models (one pydantic-core validation each), and the async driver around them.
    """

    def read() -> None:
        for chunks in streams:
            for chunk in chunks:
                if read_plain_part(chunk, 0) is None:
                    read_chunk(chunk, 0)

    def translate(build: Callable[[Any], Any] | None = None) -> None:
        for chunks in streams:
            core = StreamTranslator(response={"model": "m"})
            for chunk in chunks:
                events = core.feed(chunk)
                if build is not None:
                    for event in events:
                        build(event)
            core.finish()

    t = _alternate(
        {
            "read": read,
            "translate": translate,
            "models": lambda: translate(to_event_model),
            "driver": lambda: _run_async(ChatCmplStreamHandler.handle_stream, streams),
        },
        rounds,
    )
    n = sum(len(s) for s in streams)
    steps = [
        ("reading", t["read"]),
        ("translating", t["translate"] - t["read"]),
        ("event models", t["models"] - t["translate"]),
        ("async driver", t["driver"] - t["models"]),
    ]
    return name, ", ".join(f"{label} {_us(seconds, n)}" for label, seconds in steps) + (
        f" per chunk (sum {_us(t['driver'], n)})"
    )


async def _typed_floor(response: Any, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The least a typed path does for a chunk: read its content, validate one event, yield it.

    No provider normalising, no state machine, no lifecycle events, no text kept: what no handler that
    yields openai's event models can go below.
    """
    validate = ResponseTextDeltaEvent.__pydantic_validator__.validate_python
    sequence = 0
    async for chunk in chunks:
        delta = chunk.choices[0].delta if chunk.choices else None
        content = getattr(delta, "content", None)
        yield validate(
            {
                "type": "response.output_text.delta",
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "delta": content or "",
                "logprobs": [],
                "sequence_number": sequence,
            }
        )
        sequence += 1


def _typed_row(
    name: str, streams: list[list[Any]], agents: Callable[..., AsyncIterator[Any]], rounds: int
) -> tuple[str, str]:
    n_chunks = sum(len(s) for s in streams)
    t = _alternate(
        {
            "ours": lambda: _run_async(ChatCmplStreamHandler.handle_stream, streams),
            "agents": lambda: _run_async(agents, streams),
            "floor": lambda: _run_async(_typed_floor, streams),
        },
        rounds,
    )
    return (
        f"{name} ({n_chunks} chunks)",
        f"ours {_us(t['ours'], n_chunks)}/chunk, agents {_us(t['agents'], n_chunks)}/chunk"
        f" → ours is {t['agents'] / t['ours']:.2f}× faster; floor (read, validate one event, yield)"
        f" {_us(t['floor'], n_chunks)}/chunk, {t['agents'] / t['floor']:.2f}× faster than agents",
    )


def _floor(body: bytes) -> bytes:
    """Parse each chunk and write one event per chunk with the same json module: the least any bridge does."""
    out: list[bytes] = []
    for frame in body.split(b"\n\n"):
        if not frame.startswith(b"data: {"):
            continue
        chunk = json.loads(frame[6:])
        delta = (chunk.get("choices") or [{}])[0].get("delta") or {}
        event: dict[str, Any] = {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": delta.get("content") or "",
            "logprobs": [],
            "sequence_number": len(out),
        }
        out.append(b"event: response.output_text.delta\ndata: " + json.dumps(event).encode() + b"\n\n")
    return b"".join(out)


def _agents_wire(agents: Callable[..., AsyncIterator[Any]], bodies: list[bytes]) -> list[bytes]:
    async def run(body: bytes) -> bytes:
        chunks = [
            ChatCompletionChunk.construct(**json.loads(f[6:]))
            for f in body.split(b"\n\n")
            if f.startswith(b"data: {")
        ]
        out = []
        async for event in agents(_placeholder(), _aiter(chunks)):
            out.append(f"event: {event.type}\ndata: {event.model_dump_json()}\n\n".encode())
        return b"".join(out)

    async def run_all() -> list[bytes]:
        return [await run(body) for body in bodies]

    return asyncio.run(run_all())


def wire_path(streams: list[list[dict[str, Any]]], rounds: int) -> list[tuple[str, str]]:
    bodies = [b"".join(map(encode_chat_sse, s)) + b"data: [DONE]\n\n" for s in streams]
    n_chunks = sum(len(s) for s in streams)
    contestants: dict[str, Callable[[], Any]] = {
        "floor": lambda: [_floor(b) for b in bodies],
        "ours": lambda: [b"".join(translate_sse([b], ids=SequentialIds())) for b in bodies],
    }
    rows = []
    agents = _agents_handler()
    agent_bodies = []
    if agents is not None:
        for body in bodies:
            try:
                _agents_wire(agents, [body])
                agent_bodies.append(body)
            except Exception:
                continue
    t = _alternate(contestants, rounds)
    rows.append(
        (
            f"wire path, all {len(bodies)} streams ({n_chunks} chunks)",
            f"ours {_us(t['ours'], n_chunks)}/chunk, floor {_us(t['floor'], n_chunks)}/chunk"
            f" → ours is {t['ours'] / t['floor']:.2f}× the floor",
        )
    )
    if agents is not None:
        subset_chunks = sum(b.count(b"\n\ndata: {") + 1 for b in agent_bodies)
        t2 = _alternate(
            {
                "ours": lambda: [b"".join(translate_sse([b])) for b in agent_bodies],
                "agents": lambda: _agents_wire(agents, agent_bodies),
            },
            rounds,
        )
        rows.append(
            (
                f"wire path vs agents end to end, {len(agent_bodies)} streams (~{subset_chunks} chunks)",
                f"ours {_us(t2['ours'], subset_chunks)}/chunk, "
                f"agents {_us(t2['agents'], subset_chunks)}/chunk"
                f" → ours is {t2['agents'] / t2['ours']:.2f}× faster",
            )
        )
    return rows


# ------------------------------------------------------------------------------------- synthetic streams


def _synthetic(kind: str, n: int) -> list[dict[str, Any]]:
    """A stream of ``n`` deltas of one kind. The delta chunk is one object repeated, as a stream hands
    each chunk over and drops it: n distinct chunks held at once would measure the cache misses of a
    100k-chunk list in memory, not the translator (the 1k stream's chunks stay cached, the 100k one's
    do not)."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "c",
            "object": "chat.completion.chunk",
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    if kind == "text":
        body = [chunk({"content": "abcd"})] * n
    elif kind == "reasoning":
        body = [chunk({"reasoning_content": "abcd"})] * n
    elif kind == "blank deltas before <think>":  # issue #17: held while a tag may still come
        body = [*[chunk({"content": " "})] * n, chunk({"content": "<think>x</think>ok"})]
    elif kind == "blank deltas with logprobs":
        blank = chunk({"content": " "})
        blank["choices"][0]["logprobs"] = {"content": [{"token": " ", "logprob": -0.1, "top_logprobs": []}]}
        body = [*[blank] * n, chunk({"content": "ok"})]
    elif kind == "call waiting behind a streaming call":

        def call(index: int, call_id: str, name: str, arguments: str) -> dict[str, Any]:
            function = {"name": name, "arguments": arguments}
            return chunk(
                {"tool_calls": [{"index": index, "id": call_id, "type": "function", "function": function}]}
            )

        more = chunk({"tool_calls": [{"index": 0, "function": {"arguments": "abcd"}}]})
        body = [call(0, "call_1", "f", '{"x":"'), call(1, "call_2", "g", "{}"), *[more] * n]
        body.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"}'}}]}))
    else:
        head = chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"x":"'},
                    }
                ]
            }
        )
        body = [head, *[chunk({"tool_calls": [{"index": 0, "function": {"arguments": "abcd"}}]})] * n]
        body.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"}'}}]}))
    return [*body, chunk({}, "stop")]


def _translate_dicts(chunks: list[dict[str, Any]]) -> None:
    handler = ChatCmplStreamHandler(ids=SequentialIds())
    for c in chunks:
        handler.feed_dicts(c)
    handler.finish_dicts()


def scaling(rounds: int) -> list[tuple[str, str]]:
    rows = []
    for kind in (
        "text",
        "reasoning",
        "tool arguments",
        "blank deltas before <think>",
        "blank deltas with logprobs",
        "call waiting behind a streaming call",
    ):
        per_delta = {}
        for n in (1_000, 10_000, 100_000):
            chunks, reps = _synthetic(kind, n), max(1, 100_000 // n)

            def run(chunks: list[dict[str, Any]] = chunks, reps: int = reps) -> None:
                for _ in range(reps):
                    _translate_dicts(chunks)

            t = _alternate({"x": run}, max(3, rounds // 2))["x"]
            per_delta[n] = t / reps / n * 1e6
        rows.append(
            (
                f"scaling, {kind}",
                ", ".join(f"{n // 1000}k: {v:.2f} µs/delta" for n, v in per_delta.items())
                + f" → 100k/1k = {per_delta[100_000] / per_delta[1_000]:.2f}",
            )
        )
    return rows


def memory() -> list[tuple[str, str]]:
    chunks = _synthetic("text", 100_000)
    text_bytes = 4 * 100_000
    gc.collect()
    tracemalloc.start()
    _translate_dicts(chunks)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return [
        (
            "memory, 100k text deltas",
            f"peak {peak / 1e6:.2f} MB for {text_bytes / 1e6:.2f} MB of text → {peak / text_bytes:.2f}×",
        )
    ]


def tool_loop(rounds: int) -> list[tuple[str, str]]:
    """Three 0.3 s tools in one model turn, then a final answer: wall time of one run, ours vs the seed.

    Both run through the real ``AsyncOpenAI`` client over the same replayed upstream (the model streams
    its three calls over ~10 chunks, 20 ms apart). The seed (``chat-cmpl-stream-handler``, installed in
    the benchmark session) runs the tools one after another once the stream has ended.
    """
    try:
        import chat_cmpl_stream_handler as seed
        import httpx
        import openai

        from chat_to_responses import stream_until_user_input
        from chat_to_responses.testing import ReplayTransport, StreamTurn
    except ImportError as exc:
        return [("tool loop", f"skipped: {exc}")]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [choice]}

    calls = [
        chunk(
            {
                "tool_calls": [
                    {
                        "index": i,
                        "id": f"call_{i}",
                        "type": "function",
                        "function": {"name": "slow", "arguments": "{}"},
                    }
                ]
            }
        )
        for i in range(3)
    ]
    turn1 = [*calls, *[chunk({}) for _ in range(7)], chunk({}, "tool_calls")]
    turn2 = [chunk({"role": "assistant", "content": "done"}), chunk({}, "stop")]
    tool = {
        "type": "function",
        "function": {"name": "slow", "parameters": {"type": "object", "properties": {}}},
    }

    async def slow(tool_call: Any, context: Any) -> str:
        await asyncio.sleep(0.3)
        return "ok"

    async def run(runner: Callable[..., Any]) -> None:
        transport = ReplayTransport([StreamTurn(turn1, delay=0.02), StreamTurn(turn2)])
        client = openai.AsyncOpenAI(
            api_key="x",
            base_url="http://upstream.test/v1",
            http_client=httpx.AsyncClient(transport=transport),
        )
        async with client:
            await runner(
                [{"role": "user", "content": "go"}], "m", client, tools=[tool], tool_invokers={"slow": slow}
            )

    asyncio.run(run(stream_until_user_input))  # warm up imports and the client once, outside the timing
    t = _alternate(
        {
            "ours": lambda: asyncio.run(run(stream_until_user_input)),
            "seed": lambda: asyncio.run(run(seed.stream_until_user_input)),
        },
        max(3, rounds // 2),
    )
    return [
        (
            "tool loop, three 0.3 s tools in one turn",
            f"ours {t['ours']:.2f} s, seed (chat-cmpl-stream-handler) {t['seed']:.2f} s"
            f" → ours is {t['seed'] / t['ours']:.2f}× faster",
        )
    ]


def bridge(litellm: str | None, missing: str) -> list[tuple[str, str]]:
    """Row 6 (``benchmarks/bridge.py``): the HTTP server over a fake upstream, LiteLLM's proxy beside it."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
        from bridge import bridge_rows
    except ImportError as exc:
        return [("bridge", f"skipped: the [server] extra is not installed ({exc})")]
    rows = bridge_rows(litellm=litellm)
    if litellm is None:
        rows.append(("bridge, LiteLLM proxy", f"skipped: {missing}"))
    return rows


def inprocess() -> list[tuple[str, str]]:
    """Row 7 (``benchmarks/inprocess.py``): ``responses_client`` against the same request via ``serve``."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
        from inprocess import inprocess_rows
    except ImportError as exc:
        return [("in-process client", f"skipped: the [server] extra is not installed ({exc})")]
    return inprocess_rows()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="also write benchmarks/RESULTS.md")
    parser.add_argument("--litellm", help="the `litellm` command for the bridge row (its own virtualenv)")
    parser.add_argument(
        "--litellm-missing", default="not given", help="why there is no --litellm (shown in the table)"
    )
    parser.add_argument("--no-bridge", action="store_true", help="skip the bridge rows")
    parser.add_argument(
        "--note", action="append", default=[], help="a line for the Notes of RESULTS.md (repeatable)"
    )
    args = parser.parse_args(argv)
    streams = _corpus()
    stages: list[tuple[str, Callable[[], list[tuple[str, str]]]]] = [
        ("typed path", lambda: typed_path(streams, args.rounds)),
        ("wire path", lambda: wire_path(streams, args.rounds)),
        ("scaling", lambda: scaling(args.rounds)),
        ("memory", memory),
        ("tool loop", lambda: tool_loop(args.rounds)),
    ]
    if not args.no_bridge:
        stages.append(("bridge", lambda: bridge(args.litellm, args.litellm_missing)))
        stages.append(("in-process client", inprocess))
    rows = [row for number, stage in enumerate(stages, start=1) for row in _run_stage(number, stages, stage)]
    width = max(len(name) for name, _ in rows)
    table = "\n".join(f"| {name:<{width}} | {value} |" for name, value in rows)
    title = f"result (median of {args.rounds} alternating rounds)"
    header = f"| {'benchmark':<{width}} | {title} |\n|{'-' * (width + 2)}|---|"
    print(header + "\n" + table)
    if args.write:
        _write_results(header + "\n" + table, args.rounds, args.note)
        print("benchmarks: wrote benchmarks/RESULTS.md", file=sys.stderr)
    else:
        print("benchmarks: RESULTS.md left as it is (--write rewrites it)", file=sys.stderr)
    return 0


def _run_stage(
    number: int,
    stages: list[tuple[str, Callable[[], list[tuple[str, str]]]]],
    stage: tuple[str, Callable[[], list[tuple[str, str]]]],
) -> list[tuple[str, str]]:
    """Run one benchmark, saying so on stderr (a silent 5 minutes looks like a hang)."""
    name, run = stage
    print(f"benchmarks: [{number}/{len(stages)}] {name}…", file=sys.stderr, flush=True)
    started = time.perf_counter()
    rows = run()
    took = time.perf_counter() - started
    print(f"benchmarks: [{number}/{len(stages)}] {name}: {took:.0f} s", file=sys.stderr, flush=True)
    return rows


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.partition(':')[2].strip()} × {os.cpu_count()}"
    except OSError:
        pass
    return f"{platform.processor() or 'cpu'} × {os.cpu_count()}"


STANDING_NOTES = [
    "Run on a shared 2-vCPU VM: single figures move by about ±10% between runs; each ratio is measured in"
    " one run, the contestants alternating.",
    "Bridge rows: the client, the fake upstream and the bridge under test share the two cores. Each bridge is"
    " one process with its defaults (ours: uvicorn with httptools, SQLite store; LiteLLM's proxy:"
    " `--num_workers 1`, a master key, the packaged cost map); requests say `store: false`.",
    "Typed path: the floor row translates nothing (per chunk it reads one field, validates one event "
    "and yields it): it is the least any handler that yields openai's event models costs, so its ratio "
    "to openai-agents is the most any such handler can reach, and a 5× target just below it leaves next "
    "to no room for translating. The stage row shows where ours spends the rest: reading and normalising "
    "each provider's chunk, the state machine, and one "
    "pydantic-core validation per event (building the models without validation was tried and gained "
    "nothing measurable).",
    "Scaling rows: the delta chunk is one object repeated, as a stream hands each chunk over and "
    "drops it; 100k distinct chunks held in memory at once would time the cache misses of the input "
    "list.",
    "Bridge rows: a burst upstream (the whole stream in one read) is answered in a few writes, the "
    "first piece (`response.created`…) at once and the rest once the read is used up, so the first "
    "text comes after the first event by about the time the read takes to translate.",
]


def _write_results(table: str, rounds: int, notes: list[str]) -> None:
    import openai

    try:
        import agents

        agents_version = getattr(agents, "__version__", "installed")
    except ImportError:
        agents_version = "not installed"
    machine = (
        f"{platform.machine()}, {_cpu()}, Python {platform.python_version()}, "
        f"openai {openai.__version__}, openai-agents {agents_version}"
    )
    text = (
        "# Benchmark results\n\n"
        f"- date: {datetime.date.today().isoformat()}\n"
        f"- machine: {machine}\n"
        f"- command: `nox -s benchmarks -- --write`"
        f" (`python benchmarks/run.py --rounds {rounds} --write`)\n\n"
        f"{table}\n"
    )
    text += "\nNotes:\n\n" + "".join(f"- {note}\n" for note in [*STANDING_NOTES, *notes])
    (Path(__file__).parent / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
