"""The ``chat-to-responses`` command.

``chat-to-responses translate FILE [--format sse|jsonl]`` reads a Chat Completions chunk stream (JSONL, one
chunk per line, or a raw SSE body; ``-`` for stdin) and writes the Responses events. A malformed line does
not stop the output short: the events so far are written and the stream ends in ``response.failed`` whose
message names the line; the same message goes to stderr and the exit status is 1.

Exit status: 0 for a completed or incomplete response, 1 for a failed one, 2 for bad usage or an
unreadable file, 141 (as for SIGPIPE) when the reader of the output went away (``| head``), quietly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, BinaryIO

from ._handler import ChatCmplStreamHandler
from ._ids import SequentialIds
from ._sse import encode_sse, read_chunk_body, read_chunk_file
from .server import add_serve_command, run_serve


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "translate":
        return _translate(args)
    if args.command == "serve":
        return run_serve(args)
    parser.print_help()
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chat-to-responses", description="Chat Completions streams in, Responses API streams out."
    )
    commands = parser.add_subparsers(dest="command")
    translate = commands.add_parser(
        "translate",
        help="translate a recorded chunk stream into Responses events",
        description="Read a chunk stream (JSONL or a raw SSE body; '-' for stdin), write Responses events.",
    )
    translate.add_argument("file", help="chunk stream file (JSONL, or SSE); '-' reads stdin")
    translate.add_argument(
        "--format", choices=("sse", "jsonl"), default="sse", help="output framing (default sse)"
    )
    translate.add_argument(
        "--reasoning", choices=("summary", "text"), default="summary", help="how raw reasoning is reported"
    )
    translate.add_argument("--no-think-tags", action="store_true", help="keep <think> tags in the text")
    translate.add_argument(
        "--require-finish-reason",
        action="store_true",
        help="fail a stream that ends without a finish_reason (cut)",
    )
    translate.add_argument("--choice", type=int, default=0, help="choice index to translate when n > 1")
    translate.add_argument("--model", help="model name for the response (default: the chunks')")
    translate.add_argument(
        "--deterministic-ids", action="store_true", help="resp_1, msg_1… instead of random ids (for diffs)"
    )
    add_serve_command(commands)
    return parser


def _translate(args: argparse.Namespace) -> int:
    try:
        chunks = _read_chunks(args.file)
    except OSError as exc:
        print(f"chat-to-responses: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    handler = ChatCmplStreamHandler(
        response={"model": args.model} if args.model else None,
        ids=SequentialIds() if args.deterministic_ids else None,
        reasoning=args.reasoning,
        think_tags=not args.no_think_tags,
        choice_index=args.choice,
        require_finish_reason=args.require_finish_reason,
    )
    try:
        last = _write_events(handler, chunks, sys.stdout.buffer, args.format)
    except BrokenPipeError:
        # The reader left (`| head`): stop quietly; stdout goes to /dev/null so the exit flush cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _BROKEN_PIPE
    if handler.status == "failed":
        error = last.get("response", {}).get("error") or {}
        print(f"chat-to-responses: {args.file}: {error.get('message', 'the stream failed')}", file=sys.stderr)
        return 1
    return 0


_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away


def _write_events(
    handler: ChatCmplStreamHandler, chunks: list[dict[str, Any]], out: BinaryIO, output_format: str
) -> dict[str, Any]:
    """Write every event of the stream; returns the last one."""
    write = encode_sse if output_format == "sse" else _encode_jsonl
    last: dict[str, Any] = {}
    for chunk in chunks:
        for event in handler.feed_dicts(chunk):
            out.write(write(event))
            last = event
        if handler.done:
            break
    for event in handler.finish_dicts():
        out.write(write(event))
        last = event
    out.flush()
    return last


def _read_chunks(path: str) -> list[dict[str, Any]]:
    return read_chunk_body(sys.stdin.buffer.read()) if path == "-" else read_chunk_file(path)


def _encode_jsonl(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
