"""``serve --workers N``: N server processes on one listening socket, so every core translates streams.

The parent binds the socket, prepares the store once (the SQLite file, its schema and WAL mode, so the
workers do not race to create them) and runs uvicorn's process supervisor, which starts N spawned workers
and restarts one that dies. Each worker builds its own app from the (picklable) :class:`ServerConfig`, so
each has its own upstream connection pool and its own store connection: SQLite in WAL mode with a busy
timeout lets them all read while one writes, so a response stored by one worker continues on any other.

A ``memory`` store cannot be shared by processes and is refused with more than one worker. Metrics: every
worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (a private temporary directory made
here unless the operator set one), and a scrape of any worker adds them all up.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import socket
import tempfile
from typing import TYPE_CHECKING, Any

import anyio
import uvicorn
from uvicorn.supervisors import Multiprocess

from ._config import WORKER_LOG_FORMAT, ServerConfig, default_store_path
from ._limits import uvicorn_options
from .store import open_store

if TYPE_CHECKING:
    from starlette.applications import Starlette


class _WorkerConfig(uvicorn.Config):
    """uvicorn's config, sent to each spawned worker by pickling: the HTTP protocol class with the
    connection limits is made at run time (it cannot be pickled), so each worker makes its own."""

    def __init__(self, server_config: ServerConfig, **options: Any) -> None:
        super().__init__(**options, **uvicorn_options(server_config))
        self.server_config = server_config

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "http"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.http = uvicorn_options(self.server_config)["http"]


def worker_app(config: ServerConfig, log_level: str) -> Starlette:
    """The app of one worker process (called there by uvicorn: ``factory=True``)."""
    logging.basicConfig(level=log_level.upper(), format=WORKER_LOG_FORMAT)
    if log_level != "debug":  # httpx logs every upstream request at INFO: our own line says more
        logging.getLogger("httpx").setLevel(logging.WARNING)
    from ._app import create_app

    return create_app(config, probe_upstream=True)


def _prepare_store(config: ServerConfig) -> None:
    if config.store != "sqlite":
        return
    path = config.store_path or default_store_path()
    store = open_store(
        "sqlite",
        path,
        max_entries=config.store_max_entries,
        ttl=config.store_ttl,
        max_bytes=config.store_max_bytes,
    )
    anyio.run(store.aclose)


def run_workers(
    config: ServerConfig, sock: socket.socket, *, workers: int, host: str, port: int, log_level: str
) -> None:
    """Serve on ``sock`` with ``workers`` processes until interrupted."""
    _prepare_store(config)
    metrics_dir = None
    if config.metrics and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="chat-to-responses-metrics-")  # 0700
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # inherited by the spawned workers
    uv_config = _WorkerConfig(
        config,
        app=functools.partial(worker_app, config, log_level),
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
    )
    try:
        with sock:
            Multiprocess(uv_config, sockets=[sock]).run()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
