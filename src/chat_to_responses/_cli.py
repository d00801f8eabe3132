"""The ``chat-to-responses`` command.

``chat-to-responses translate FILE [--format text|sse|jsonl]`` reads a Chat Completions chunk stream (JSONL,
one chunk per line, or a raw SSE body; ``-`` for stdin) and writes the Responses events: ``text`` (the
default on a terminal) is one readable line per event with text deltas joined, ``sse`` (the default
otherwise) the frames a client receives, ``jsonl`` one event per line.

Input that is not a chunk stream is refused before anything is written (``_cli_input``). A malformed line
later on does not stop the output short: the events so far are written and the stream ends in
``response.failed`` whose message names the input line; the same message goes to stderr.

Exit status: 0 for a completed or incomplete response, 1 for a failed one, 2 for bad usage, an unreadable
file or input that is not a chunk stream, 141 (as for SIGPIPE) when the reader of the output went away
(``| head``), quietly.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from typing import Any, BinaryIO

from ._cli_input import InputError, is_invalid_chunk, parse_input
from ._dist import __version__
from ._handler import ChatCmplStreamHandler
from ._ids import SequentialIds
from ._snapshot import Timeline
from ._sse import encode_sse
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command")
    translate = commands.add_parser(
        "translate",
        help="translate a recorded chunk stream into Responses events",
        description="Read a chunk stream (JSONL or a raw SSE body; '-' for stdin), write Responses events.",
    )
    translate.add_argument("file", help="chunk stream file (JSONL, or SSE); '-' reads stdin")
    translate.add_argument(
        "--format",
        choices=("text", "sse", "jsonl"),
        help="text: one readable line per event, text deltas joined (default on a terminal); "
        "sse: the frames a client receives (default otherwise); jsonl: one event per line",
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
        chunks = parse_input(_read_input(args.file), "" if args.file == "-" else shlex.quote(args.file))
    except OSError as exc:
        print(f"chat-to-responses: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"chat-to-responses: {args.file}: {exc}", file=sys.stderr)
        return 2
    handler = ChatCmplStreamHandler(
        response={"model": args.model} if args.model else None,
        ids=SequentialIds() if args.deterministic_ids else None,
        reasoning=args.reasoning,
        think_tags=not args.no_think_tags,
        choice_index=args.choice,
        require_finish_reason=args.require_finish_reason,
    )
    output_format = args.format or ("text" if sys.stdout.isatty() else "sse")
    try:
        last = _write_events(handler, chunks, sys.stdout.buffer, output_format)
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
    encode = _Encoder(output_format)
    last: dict[str, Any] = {}
    for chunk in chunks:
        if is_invalid_chunk(chunk):
            chunk = _input_error(chunk)
        for event in handler.feed_dicts(chunk):
            last = _blame_input(event)
            out.write(encode(last))
        if handler.done:
            break
    for event in handler.finish_dicts():
        last = event
        out.write(encode(event))
    out.write(encode.flush())
    out.flush()
    return last


_INPUT_ERROR_CODE = "invalid_input"
# The core words a chunk's error as the upstream's; for a file on disk the input is to blame.
_UPSTREAM_PREFIX = f"upstream error ({_INPUT_ERROR_CODE}): "


def _input_error(chunk: dict[str, Any]) -> dict[str, Any]:
    """The error chunk for a line of the input that is not a chunk (its message names the line)."""
    message = f"invalid input, {chunk['error']['message']}"
    return {"error": {"type": _INPUT_ERROR_CODE, "code": _INPUT_ERROR_CODE, "message": message}}


def _blame_input(event: dict[str, Any]) -> dict[str, Any]:
    """``response.failed`` for a bad input line: its message without the "upstream error" wording."""
    error = event.get("response", {}).get("error") or {}
    message = str(error.get("message"))
    if event.get("type") == "response.failed" and message.startswith(_UPSTREAM_PREFIX):
        error["message"] = message.removeprefix(_UPSTREAM_PREFIX)
    return event


class _Encoder:
    """Event dict → output bytes in the chosen format; ``flush`` ends the text format's last joined run."""

    def __init__(self, output_format: str) -> None:
        self._format = output_format
        self._timeline = Timeline()

    def __call__(self, event: dict[str, Any]) -> bytes:
        if self._format == "sse":
            return encode_sse(event)
        if self._format == "jsonl":
            return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        return _lines(self._timeline.add(event))

    def flush(self) -> bytes:
        return _lines(self._timeline.flush()) if self._format == "text" else b""


def _lines(lines: list[str]) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode("utf-8", "backslashreplace")


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as file:
        return file.read()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
