#!/usr/bin/env python3
"""Run rdma-core's pyverbs tests and record one line per test.

Usage: pyverbs_run.py --dev DEV --out FILE [--poll-timeout S]
                     [--exclude LIST] MODULE...

Loads the suite the way its own run_tests.py does (the package in
/usr/share/doc/rdma-core/tests), runs the given test modules, and writes
"<status> <test id>" lines to FILE, status being one of ok, FAIL, ERROR,
skipped, xfail, xpass, or "excluded" for tests named in the --exclude
file (one test id per line, '#' comments), which are not run at all.  The
normal verbose unittest output goes to stderr.
"""
import argparse
import os
import sys
import unittest
from importlib.machinery import SourceFileLoader

SUITE = '/usr/share/doc/rdma-core/tests'


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = []

    def _rec(self, test, status):
        self.records.append((status, test.id()))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._rec(test, 'ok')

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._rec(test, 'FAIL')

    def addError(self, test, err):
        super().addError(test, err)
        self._rec(test, 'ERROR')

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._rec(test, 'skipped')

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._rec(test, 'xfail')

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._rec(test, 'xpass')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dev', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--poll-timeout', type=float, default=None)
    ap.add_argument('--exclude', default=None)
    ap.add_argument('modules', nargs='+')
    a = ap.parse_args()

    # The suite reads its own arguments from sys.argv.
    sys.argv = [sys.argv[0], '--dev', a.dev]
    sys.path.insert(0, SUITE)
    from args_parser import parser
    parser.parse_args()
    tests = SourceFileLoader('tests', os.path.join(SUITE, '__init__.py')).load_module()
    if a.poll_timeout is not None:
        import tests.utils as tu
        tu.POLL_CQ_TIMEOUT = a.poll_timeout

    excluded = set()
    if a.exclude:
        with open(a.exclude) as f:
            excluded = {ln.strip() for ln in f
                        if ln.strip() and not ln.startswith('#')}

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t

    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    skipped_ids = []
    for name in a.modules:
        for t in flatten(loader.loadTestsFromModule(getattr(tests, name))):
            if t.id() in excluded:
                skipped_ids.append(t.id())
            else:
                suite.addTest(t)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2,
                                     resultclass=RecordingResult)
    result = runner.run(suite)
    records = result.records + [('excluded', t) for t in skipped_ids]
    with open(a.out, 'w') as f:
        for status, tid in sorted(records, key=lambda r: r[1]):
            f.write(f'{status} {tid}\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
