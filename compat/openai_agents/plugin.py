"""pytest plugin: openai-agents' own Chat Completions tests with chat-to-responses substituted.

Loaded with ``-p plugin`` (this folder on ``PYTHONPATH``) before agents' ``tests/conftest.py`` and before any
test module imports the names replaced, so no test file is changed. ``C2R_COMPAT_MODE``:

- ``model``: ``OpenAIChatCompletionsModel`` is ``chat_to_responses.agents.ChatCmplModel`` wherever the tests
  get it (``agents``, ``agents.models.openai_chatcompletions`` and the provider's module). agents' own
  ``ChatCmplStreamHandler`` stays for the tests that call it directly.
- ``handler``: agents' ``ChatCmplStreamHandler`` is ``chat_to_responses.ChatCmplStreamHandler`` in its
  module and in the three models built on it (chat completions, LiteLLM, AnyLLM).
"""

from __future__ import annotations

import os
from typing import Any

MODE = os.environ.get("C2R_COMPAT_MODE", "")
if MODE not in ("model", "handler"):
    raise SystemExit(f"C2R_COMPAT_MODE must be 'model' or 'handler', not {MODE!r}")


def _swap(modules: list[Any], name: str, new: Any) -> None:
    old = getattr(modules[0], name)
    for module in modules:
        assert getattr(module, name) is old, f"{module.__name__}.{name} was already replaced"
        setattr(module, name, new)


def _install() -> None:
    import agents
    import agents.models.chatcmpl_stream_handler as handler_module
    import agents.models.openai_chatcompletions as chat_module
    import agents.models.openai_provider as provider_module

    if MODE == "model":
        from chat_to_responses.agents import ChatCmplModel

        _swap([agents, chat_module, provider_module], "OpenAIChatCompletionsModel", ChatCmplModel)
    else:
        import agents.extensions.models.any_llm_model as any_llm_module
        import agents.extensions.models.litellm_model as litellm_module

        from chat_to_responses import ChatCmplStreamHandler

        modules = [handler_module, chat_module, litellm_module, any_llm_module]
        _swap(modules, "ChatCmplStreamHandler", ChatCmplStreamHandler)


_install()


def pytest_report_header(config: Any) -> str:
    return f"chat-to-responses compat mode: {MODE}"
