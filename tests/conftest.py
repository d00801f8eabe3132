"""Test-run wide hooks: the header says up front what the slow, downloading test will do."""

from __future__ import annotations

import pytest

import codex_cli


def pytest_report_header(config: pytest.Config) -> str:
    return codex_cli.header()
