"""The snapshot fixture for examples/test_snapshot.py (in your project: put this line in a conftest.py)."""

from chat_to_responses.testing import responses_snapshot as responses_snapshot
