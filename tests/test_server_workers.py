"""``serve --workers N`` (#16): several server processes on one port sharing the SQLite store. A real
``serve`` process with 2 workers on 127.0.0.1, a fake upstream, chains continued on whichever worker the
kernel hands each new connection to."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

pytest.importorskip("starlette")
pytest.importorskip("prometheus_client")

from prometheus_client.parser import text_string_to_metric_families

from bridge_processes import bridge_process, echo_inputs, run_chain
from chat_to_responses.server import main
from fake_upstream import FakeUpstream

WORKER_LINE = re.compile(r"\[(\d+)\] chat_to_responses\.server: response: model=")


def test_chains_continue_on_any_worker(upstream_server: tuple[FakeUpstream, str], tmp_path: Path) -> None:
    upstream, url = upstream_server
    upstream.reset(responder=echo_inputs)
    log = tmp_path / "serve.log"
    args = ["--upstream", f"{url}/v1", "--workers", "2", "--store-path", str(tmp_path / "s.sqlite3")]
    with bridge_process([*args, "--metrics"], log) as bridge:
        chains = 0
        # The kernel picks the worker of each new connection: run chains until a turn has crossed over.
        while chains < 4 or (_crossings(_workers(log), chains) == 0 and chains < 40):
            run_chain([bridge], f"c{chains}", turns=3)  # checks every turn got its whole chain
            chains += 1
        scrape = httpx.get(f"{bridge}/metrics", timeout=10).text
    workers = _workers(log)
    assert len(workers) == 3 * chains
    assert len(set(workers)) == 2, "one worker served every request"
    assert _crossings(workers, chains) > 0  # at least one turn continued a response another worker stored
    served = [
        s.value
        for family in text_string_to_metric_families(scrape)
        for s in family.samples
        if s.name == "c2r_requests_total" and s.labels["route"] == "/v1/responses"
    ]
    assert sum(served) == 3 * chains  # any worker's scrape counts every worker's requests


def _crossings(workers: list[str], chains: int) -> int:
    """Turns served by another worker than the turn they continued."""
    if len(workers) < 3 * chains:
        return 0
    return sum(1 for c in range(chains) for t in (1, 2) if workers[3 * c + t] != workers[3 * c + t - 1])


def _workers(log: Path) -> list[str]:
    return WORKER_LINE.findall(log.read_text())


def test_workers_refuse_a_memory_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--upstream", "http://127.0.0.1:9/v1", "--workers", "2", "--store", "memory"]) == 2
    assert "--store memory is private to each process" in capsys.readouterr().err
    assert main(["--upstream", "http://127.0.0.1:9/v1", "--workers", "0"]) == 2
    assert "--workers must be >= 1" in capsys.readouterr().err
