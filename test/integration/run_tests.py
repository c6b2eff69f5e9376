#!/usr/bin/python3
"""Runs the integration suite: one line per test (PASS / FAIL / SKIP), a
summary, exit status 1 if any test failed.

    run_tests.py --build BUILD_DIR [-k SUBSTRING ...] [--list]
"""
import argparse
import os
import shutil
import signal
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


class LineResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.t0 = None
        self.started_mark = 0
        self.live_mark = []
        self.lines = []
        self.n_pass = self.n_fail = self.n_skip = 0

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()
        self.started_mark = len(harness.STARTED)
        self.live_mark = list(harness.LIVE)

    def _elapsed(self):
        return time.monotonic() - self.t0 if self.t0 is not None else 0.0

    def _line(self, status, test, detail=None):
        line = f"{status} {test.id()} ({self._elapsed():.1f}s)"
        print(line, flush=True)
        self.lines.append(line)
        if detail:
            print("    " + detail.rstrip().replace("\n", "\n    "), flush=True)

    def _logs(self):
        envs = list(dict.fromkeys(self.live_mark + harness.STARTED[self.started_mark:] + harness.LIVE))
        out = []
        for env in envs:
            out.append(f"--- synmill log tail: {env.name} ({env.log_path}) ---\n{harness.tail(env.log_path, 30)}")
        return "\n".join(out)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.n_pass += 1
        self._line("PASS", test)

    def _bad(self, test, err, kind):
        self.n_fail += 1
        text = "".join(traceback.format_exception(*err))
        self._line("FAIL", test, f"[{kind}] {text}\n{self._logs()}")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bad(test, err, "failure")

    def addError(self, test, err):
        super().addError(test, err)
        self._bad(test, err, "error")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.n_skip += 1
        self._line("SKIP", test, reason)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._bad(subtest, err, "subtest")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(harness.REPO, "build"))
    ap.add_argument("-k", action="append", default=[], help="run only tests whose id contains this")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()

    os.environ["SYNMILL_BUILD"] = os.path.abspath(args.build)
    loader = unittest.TestLoader()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    tests = [t for t in flatten(suite) if not args.k or any(k in t.id() for k in args.k)]
    if args.list:
        for t in tests:
            print(t.id())
        return 0

    # SIGTERM (e.g. from a CI timeout) unwinds like Ctrl-C: fixtures clean up.
    def term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, term)

    print(f"integration: {len(tests)} tests, synmill {harness.synmill_binary()}", flush=True)
    if not tests:
        print("FAIL integration (no test selected)")
        return 1
    if os.geteuid() != 0:
        print("FAIL integration (needs root: network namespaces, taps)")
        return 1
    if not os.access(harness.synmill_binary(), os.X_OK):
        print(f"FAIL integration (no synmill binary at {harness.synmill_binary()}; build first)")
        return 1
    logdir = harness.log_dir()
    result = LineResult()
    t0 = time.monotonic()
    try:
        unittest.TestSuite(tests).run(result)
    except KeyboardInterrupt:
        print("integration: interrupted; cleaning up", flush=True)
        harness._cleanup_all()
        return 130
    elapsed = time.monotonic() - t0
    failed = result.n_fail  # an import error is a test that fails (unittest's _FailedTest)
    print(f"integration: {result.n_pass} passed, {result.n_fail} failed, {result.n_skip} skipped "
          f"in {elapsed:.0f}s", flush=True)
    if failed:
        print(f"integration: synmill logs kept in {logdir}")
        return 1
    shutil.rmtree(logdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
