"""Developer sessions: `nox -s tests` (both supported openai lines), `lint`, `typecheck`, `benchmarks`."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "lint", "typecheck"]

OPENAI_LINES = {"openai3": "openai>=3,<4", "openai2": "openai>=2,<3"}


@nox.session
@nox.parametrize("openai", list(OPENAI_LINES), ids=list(OPENAI_LINES))
def tests(session: nox.Session, openai: str) -> None:
    """The test suite, once against each supported openai major line."""
    session.install("-e", ".[test]", OPENAI_LINES[openai])
    if openai == "openai3":  # openai-agents needs openai 3: its tests skip on the 2.x line
        session.install("openai-agents>=0.24")
    session.run("python", "-c", "import openai; print('openai', openai.__version__)")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[test,agents]", "mypy>=1.11")
    session.run("mypy")


@nox.session
def benchmarks(session: nox.Session) -> None:
    # The peers: openai-agents' stream handler, and the seed library for the tool-loop row.
    session.install("-e", ".[testing]", "openai-agents>=0.24")
    session.install("--no-deps", "chat-cmpl-stream-handler==0.5.0")
    session.run("python", "benchmarks/run.py", *session.posargs)
