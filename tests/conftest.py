"""Test-run wide hooks and fixtures: the header says up front what the slow, downloading test will do; the
server test modules share one fake upstream per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

import codex_cli

if TYPE_CHECKING:
    from fake_upstream import FakeUpstream


def pytest_report_header(config: pytest.Config) -> str:
    return codex_cli.header()


@pytest.fixture(scope="module")
def upstream_server() -> Iterator[tuple[FakeUpstream, str]]:
    """A fake Chat Completions upstream on 127.0.0.1 for one test module, and its base URL (no ``/v1``)."""
    from fake_upstream import running_upstream  # uvicorn: only for the modules that ask for it

    with running_upstream() as served:
        yield served
