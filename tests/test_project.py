"""The project as a new user meets it: licence files, metadata, documents that exist in the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import codex_cli

ROOT = Path(__file__).parent.parent
MANIFEST = ROOT / "fixtures" / "chat-streams" / "MANIFEST.md"


def _manifest_sources() -> dict[str, set[str]]:
    """Licence → the source repositories of the fixtures under it, from MANIFEST.md's table."""
    sources: dict[str, set[str]] = {}
    for row in MANIFEST.read_text().splitlines():
        if not row.startswith("| `"):
            continue
        cells = [cell.strip() for cell in row.split("|")]
        repo, licence = cells[8].split(" ")[0], cells[9]
        if "/" in repo:
            sources.setdefault(licence, set()).add(repo)
    return sources


def test_license_is_apache_2() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text


def test_notice_names_every_fixture_source_and_its_licence() -> None:
    notice = (ROOT / "NOTICE").read_text()
    sources = _manifest_sources()
    assert set(sources) == {"Apache-2.0", "MIT"}  # a new licence needs its own section in NOTICE
    apache, mit = notice.split("MIT License (text below):")
    assert all(repo in apache for repo in sources["Apache-2.0"])
    assert all(repo in mit for repo in sources["MIT"])
    assert "Permission is hereby granted" in mit


def test_no_reference_to_documents_outside_the_repository() -> None:
    """Every `….md` the code, tests or README name is in the repository; no path points outside it."""
    outside = "/" + "work/"  # the machine this project was first built on; spelt so as not to match here
    files = [path for folder in ("src", "tests", "examples") for path in (ROOT / folder).rglob("*.py")]
    files += [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    in_repo = {path.name for path in ROOT.rglob("*.md") if not {".nox", ".venv"} & set(path.parts)}
    for path in files:
        text = path.read_text()
        assert outside not in text, path
        for doc in re.findall(r"[\w./-]+\.md\b", text):
            assert Path(doc).name in in_repo, f"{path.name} names {doc}, which is not in the repository"


def _pytest(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A pytest run as a user starts it (default verbosity: the header is shown)."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_the_codex_test_says_before_it_downloads_and_how_to_skip_it(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"  # an npm that fails at once: the test must have said what it was doing first
    npm.write_text("#!/bin/sh\necho 'npm: no network here' >&2\nexit 1\n")
    npm.chmod(0o755)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop(codex_cli.SKIP_ENV, None)
    done = _pytest("tests/test_server_codex.py", "-rs", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    header, download = done.stdout.index("installs @openai/codex@"), done.stdout.index("installing @openai/")
    assert header < download
    assert "about 400 MB" in done.stdout[header:download]
    assert f"{codex_cli.SKIP_ENV}=1 skips" in done.stdout[download:]
    assert "npm could not install" in done.stdout
    assert "1 skipped" in done.stdout


def test_the_codex_test_is_skipped_when_asked() -> None:
    env = {**os.environ, codex_cli.SKIP_ENV: "1"}
    done = _pytest("tests/test_server_codex.py", "-rs", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Codex CLI end-to-end test: skipped ({codex_cli.SKIP_ENV} is set)" in done.stdout
    assert "1 skipped" in done.stdout
