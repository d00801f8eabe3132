"""Which upstream serves a model: one (``--upstream``, every model) or several (``serve --config FILE``).

A model goes to the upstream that names it exactly, else to the first whose glob matches it, in the
config's order; a model no upstream serves is a 404 naming what is configured. Each upstream has its own
pooled client (:class:`Upstream`) and its own one-upstream :class:`ServerConfig` (its URL, key and
options), which the request, translation and upstream code use as before.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from ._config import ServerConfig
from ._errors import BridgeError
from ._upstream import ModelList, Upstream

logger = logging.getLogger("chat_to_responses.server")

SINGLE = "default"
_JSON = "application/json"  # the name of the one upstream of --upstream


@dataclass
class UpstreamRoute:
    name: str
    models: tuple[str, ...]
    config: ServerConfig
    upstream: Upstream | None = None  # opened by the app's lifespan

    @property
    def client(self) -> Upstream:
        if self.upstream is None:
            raise RuntimeError("the server's lifespan has not started (run it under uvicorn or TestClient)")
        return self.upstream

    def serves(self, model: str) -> bool:
        return any(fnmatch.fnmatchcase(model, pattern) for pattern in self.models)


class Router:
    """The routes of a config, and the choice among them."""

    def __init__(self, config: ServerConfig) -> None:
        if not config.upstreams:
            self.routes = [UpstreamRoute(SINGLE, ("*",), config)]
        else:
            self.routes = [
                UpstreamRoute(spec.name, spec.models, config.for_upstream(spec)) for spec in config.upstreams
            ]
        self._exact = {}
        for route in reversed(self.routes):  # the first upstream naming a model exactly wins
            for pattern in route.models:
                if not any(c in pattern for c in "*?["):
                    self._exact[pattern] = route

    @property
    def single(self) -> bool:
        return len(self.routes) == 1 and self.routes[0].name == SINGLE

    def open(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """Each upstream's client; ``transport`` (the in-process client's) replaces the network pools."""
        for route in self.routes:
            route.upstream = Upstream(route.config, transport=transport)

    async def aclose(self) -> None:
        for route in self.routes:
            if route.upstream is not None:
                await route.upstream.aclose()

    def route(self, model: str) -> UpstreamRoute:
        found = self._exact.get(model) or next((r for r in self.routes if r.serves(model)), None)
        if found is None:
            configured = "; ".join(f"{r.name}: {', '.join(r.models)}" for r in self.routes)
            raise BridgeError(
                404,
                f"The model {model!r} is not served here: no configured upstream matches it ({configured}).",
                code="model_not_found",
                param="model",
            )
        return found

    async def models(self, authorization: str | None) -> ModelList:
        """``GET /v1/models``: one upstream's answer as is; several upstreams' lists merged, each model
        listed by the upstream that serves it. An upstream that fails is left out (and logged); when all
        fail, the first failure is the answer."""
        if self.single:
            return await self.routes[0].client.models(authorization)
        merged: dict[str, Any] = {}
        failures: list[ModelList] = []
        for route in self.routes:
            try:
                answer = await route.client.models(authorization)
            except BridgeError as error:
                logger.warning("GET /models of upstream %s: %d %s", route.name, error.status, error.message)
                failures.append(ModelList(error.status, json.dumps(error.body()).encode(), _JSON))
                continue
            if not answer.is_success:
                logger.warning("GET /models of upstream %s: HTTP %d", route.name, answer.status_code)
                failures.append(answer)
                continue
            for entry in _entries(answer.content):
                if self.route_or_none(entry["id"]) is route:
                    merged.setdefault(entry["id"], entry)
        if failures and len(failures) == len(self.routes):
            return failures[0]
        merged_list = {"object": "list", "data": list(merged.values())}
        return ModelList(200, json.dumps(merged_list).encode(), "application/json")

    def route_or_none(self, model: str) -> UpstreamRoute | None:
        try:
            return self.route(model)
        except BridgeError:
            return None


def _entries(content: bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(content)
    except ValueError:
        return []
    entries = data.get("data") if isinstance(data, dict) else None
    return [e for e in entries or [] if isinstance(e, dict) and isinstance(e.get("id"), str)]
