"""``python -m chat_to_responses.server --upstream URL …``: the ``serve`` command on its own."""

from . import main

# Guarded: a spawned worker process (``--workers``) may import the main module again as ``__mp_main__``.
if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
