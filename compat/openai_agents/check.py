"""The verdict of one ``nox -s compat`` mode: its junit XML against ``expected.txt``.

    python check.py MODE RESULTS.xml

Prints passed / collected, every failure not listed for MODE (unexpected: exit 1) and every listed test
that passed (stale entry: reported, not fatal, so a fix is noticed and its entry removed).
"""

from __future__ import annotations

import fnmatch
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent


def expected(mode: str) -> list[tuple[str, str]]:
    """(test id pattern, reason) listed for ``mode``."""
    rows = []
    for line in (HERE / "expected.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        where, pattern, reason = line.split("\t")
        if where in (mode, "both"):
            rows.append((pattern, reason))
    return rows


def outcomes(xml_path: str) -> dict[str, bool]:
    """test id → passed, from pytest's junit XML."""
    results: dict[str, bool] = {}
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        test_id = f"{module}.py::{case.get('name')}"
        failed = any(child.tag in ("failure", "error") for child in case)
        skipped = any(child.tag == "skipped" for child in case)
        if not skipped:
            results[test_id] = not failed
    return results


def main(mode: str, xml_path: str) -> int:
    rows = expected(mode)
    results = outcomes(xml_path)
    failed = sorted(t for t, ok in results.items() if not ok)
    unexpected = [t for t in failed if not any(fnmatch.fnmatchcase(t, p) for p, _ in rows)]
    stale = [p for p, _ in rows if not any(fnmatch.fnmatchcase(t, p) for t in failed)]
    passed = len(results) - len(failed)
    print(f"{mode}: {passed}/{len(results)} passed, {len(failed) - len(unexpected)} expected failures")
    for test_id in unexpected:
        print(f"  UNEXPECTED failure: {test_id}")
    for pattern in stale:
        print(f"  listed but passing (remove from expected.txt): {pattern}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
