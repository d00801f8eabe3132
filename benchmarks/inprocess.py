"""Row 7, the in-process client: ``responses_client`` against the same request through ``serve`` on 127.0.0.1.

Both contestants are the openai SDK's ``AsyncOpenAI`` reading ``client.responses.create(stream=True)`` to its
end, over the fake upstream of ``benchmarks/bridge.py`` (a recorded 303-chunk stream, every chunk at once):

- in-process: ``responses_client(upstream)``, the bridge app running in the client's own event loop;
- serve: a plain client pointed at ``chat-to-responses serve`` (its own process, uvicorn), as before.

Streams run one after another, the two contestants alternating; the figures are medians of time to the
first event and to the end of the stream. The in-process path saves the second HTTP hop (the bridge's
socket, its HTTP parsing and SSE re-framing on both sides) but runs the translation on the client's core.

    python benchmarks/inprocess.py --streams 5        # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import openai
from bridge import _free_port, _ours_command, _process

from chat_to_responses import responses_client


async def _one(client: openai.AsyncOpenAI) -> tuple[float, float]:
    start = time.perf_counter()
    first = 0.0
    stream = await client.responses.create(model="burst", input="Hi", stream=True, store=False)
    async for event in stream:
        if not first:
            first = time.perf_counter() - start
        if event.type == "response.completed":
            break
    await stream.close()
    return first, time.perf_counter() - start


async def _race(clients: dict[str, openai.AsyncOpenAI], streams: int) -> dict[str, list[tuple[float, float]]]:
    for client in clients.values():  # warm up: imports, pools, the app's lifespan
        for _ in range(3):
            await _one(client)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
    for _ in range(streams):
        for name, client in clients.items():
            times[name].append(await _one(client))
    return times


def inprocess_rows(streams: int = 30) -> list[tuple[str, str]]:
    """The in-process row of the results table."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        upstream = _free_port()
        bridge = str(Path(__file__).resolve().parent / "bridge.py")
        stack.enter_context(_process([sys.executable, bridge, "upstream", "--port", str(upstream)], upstream))
        port = _free_port()
        stack.enter_context(_process(_ours_command(upstream, port, Path(tmp)), port))

        async def run() -> dict[str, list[tuple[float, float]]]:
            key = "sk-bench"
            async with (
                responses_client(f"http://127.0.0.1:{upstream}/v1", api_key=key) as inprocess,
                openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key) as served,
            ):
                return await _race({"in-process": inprocess, "serve": served}, streams)

        times = asyncio.run(run())
    return [_row(times, streams, 0, "first event"), _row(times, streams, 1, "end of a 303-chunk stream")]


def _row(times: dict[str, list[tuple[float, float]]], streams: int, which: int, what: str) -> tuple[str, str]:
    ms: dict[str, Any] = {
        name: statistics.median(t[which] for t in runs) * 1000 for name, runs in times.items()
    }
    ratio = ms["in-process"] / ms["serve"]
    return (
        f"in-process client vs serve, time to the {what} ({streams} sequential streams, openai SDK)",
        f"in-process {ms['in-process']:.2f} ms, serve {ms['serve']:.2f} ms → in-process/serve = {ratio:.2f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", type=int, default=30)
    args = parser.parse_args()
    for name, value in inprocess_rows(args.streams):
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
