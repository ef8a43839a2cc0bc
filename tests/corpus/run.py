"""Run the malformed-input corpus and print how each class fared.

    python tests/corpus/run.py [pytest arguments, e.g. -k listen]

Runs test_corpus.py through pytest (its own output kept short), then prints one line
per class (frames, handshake, tls, files): how many cases and fault kinds it holds and
how many passed, then the total, then the id of every case that did not pass.  The exit
status is 0 when every case passed, 1 otherwise.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from test_corpus import C as cases  # noqa: E402  (cases.py, as the tests load it)


class Tally:
    """A pytest plugin: the outcome of each corpus case, by its id."""

    def __init__(self) -> None:
        self.outcome: dict[str, str] = {}

    def pytest_runtest_logreport(self, report) -> None:
        name = report.nodeid.rsplit("::", 1)[-1]
        if not name.startswith("test_case["):
            return
        case_id = name[len("test_case["):-1]
        if report.when == "call":
            self.outcome[case_id] = report.outcome
        elif report.outcome != "passed":  # setup or teardown went wrong
            self.outcome[case_id] = "error" if report.failed else report.outcome


def main(argv: list[str]) -> int:
    tally = Tally()
    started = time.monotonic()
    code = pytest.main([str(HERE / "test_corpus.py"), "-q", "--no-header", "-p", "no:cacheprovider",
                        "--tb=line", *argv], plugins=[tally])
    took = time.monotonic() - started
    print()
    ran = tally.outcome
    total = Counter()
    for cls in cases.CLASSES:
        mine = [c for c in cases.by_class(cls) if c.id in ran]
        passed = sum(ran[c.id] == "passed" for c in mine)
        kinds = len({c.kind for c in mine})
        total.update(cases=len(mine), passed=passed, kinds=kinds)
        print(f"{cls:10} {len(mine):4} cases ({kinds:2} kinds): {passed:4} passed, {len(mine) - passed:3} not")
    print(f"{'total':10} {total['cases']:4} cases ({total['kinds']:2} kinds): {total['passed']:4} passed, "
          f"{total['cases'] - total['passed']:3} not  ({took:.0f} s)")
    failed = [i for i, o in ran.items() if o != "passed"]
    for i in failed:
        print(f"  {ran[i]:7} {i}")
    if code not in (0, 1):  # a usage or internal error of pytest itself
        return int(code)
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
