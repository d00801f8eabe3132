"""Developer sessions: `nox -s tests` (both supported openai lines), `lint`, `typecheck`, `benchmarks`,
`compat` (openai-agents' own tests against us; not a default session)."""

from __future__ import annotations

from pathlib import Path

import nox
import nox.command

COMPAT = Path(__file__).resolve().parent / "compat" / "openai_agents"
AGENTS_RELEASE = "0.24.0"

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "lint", "typecheck"]

OPENAI_LINES = {"openai3": "openai>=3,<4", "openai2": "openai>=2,<3"}


@nox.session
@nox.parametrize("openai", list(OPENAI_LINES), ids=list(OPENAI_LINES))
def tests(session: nox.Session, openai: str) -> None:
    """The test suite, once against each supported openai major line."""
    session.install("-e", ".[test]", OPENAI_LINES[openai])
    if openai == "openai3":  # openai-agents and pydantic-ai need openai 3: their tests skip on the 2.x line
        session.install("openai-agents>=0.24,<0.25", "pydantic-ai-slim[openai]>=2.68")
    session.run("python", "-c", "import openai; print('openai', openai.__version__)")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", "src", "tests", "benchmarks", "examples", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "examples", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[test,agents]", "mypy>=1.11")
    session.run("mypy")


LITELLM = (
    "litellm[proxy]==1.106.2"  # the peer of the bridge row, in a virtualenv of its own (it pins openai 2)
)


@nox.session
def benchmarks(session: nox.Session) -> None:
    """``benchmarks/run.py`` (about 5 minutes): prints the table; ``-- --write`` also rewrites RESULTS.md."""
    # The peers: openai-agents' stream handler, and the seed library for the tool-loop row.
    session.install("-e", ".[test,server]", "openai-agents>=0.24,<0.25")
    session.install("--no-deps", "chat-cmpl-stream-handler==0.5.0")
    session.log(f"installing {LITELLM} in a virtualenv of its own (the bridge row's peer)")
    litellm = _litellm(session)
    session.log("running benchmarks/run.py: six benchmarks, about 5 minutes")
    session.run("python", "benchmarks/run.py", *litellm, *session.posargs)


def _litellm(session: nox.Session) -> list[str]:
    """``--litellm PATH`` once LiteLLM's proxy is installed in its own virtualenv, else why it is not."""
    venv = Path(session.cache_dir).resolve() / "litellm"
    try:
        if not (venv / "bin" / "python").exists():
            session.run("python", "-m", "venv", str(venv))
        session.run(str(venv / "bin" / "python"), "-m", "pip", "install", "-q", LITELLM, external=True)
    except nox.command.CommandFailed as exc:
        return ["--litellm-missing", f"{LITELLM} did not install ({exc.reason})"]
    return ["--litellm", str(venv / "bin" / "litellm")]


@nox.session
def compat(session: nox.Session) -> None:
    """openai-agents' own Chat Completions tests (its sdist, no test changed) with ``ChatCmplModel`` in place
    of ``OpenAIChatCompletionsModel`` (mode ``model``) and our handler in place of agents' (``handler``).
    Fails on any failure ``compat/openai_agents/expected.txt`` does not list. About 2 minutes (install,
    then ~15 s of tests per mode)."""
    session.install("-r", str(COMPAT / "pins.txt"))
    session.install("-e", ".[agents,testing]", "-c", str(COMPAT / "pins.txt"))
    work = Path(session.create_tmp()).resolve()
    source = work / f"openai_agents-{AGENTS_RELEASE}"
    if not (source / "tests" / "conftest.py").exists():
        session.run(
            "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", f"openai-agents=={AGENTS_RELEASE}",
            "-d", str(work),
        )  # fmt: skip
        sdist = work / f"openai_agents-{AGENTS_RELEASE}.tar.gz"
        session.run("tar", "xzf", str(sdist), "-C", str(work), external=True)
    suite = (COMPAT / "suite.txt").read_text().split()
    failed = []
    for mode in ("model", "handler"):
        results = work / f"{mode}.xml"
        env = {"C2R_COMPAT_MODE": mode, "PYTHONPATH": str(COMPAT)}
        with session.chdir(source):
            session.run(
                "pytest", "-p", "plugin", "-p", "no:cacheprovider", "-q", "--timeout=120",
                f"--junitxml={results}", *suite, *session.posargs, env=env, success_codes=[0, 1],
            )  # fmt: skip
        try:
            session.run("python", str(COMPAT / "check.py"), mode, str(results))
        except nox.command.CommandFailed:
            failed.append(mode)
    if failed:
        session.error(f"unexpected failures of openai-agents' tests in mode {', '.join(failed)}")
