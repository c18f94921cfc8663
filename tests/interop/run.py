"""Runs interop test modules against the castle binary.

    /usr/bin/python3 tests/interop/run.py --castle build/castle test_kcat [test_...]

Each module is a unittest module in this folder; every test starts its own
`castle broker` (see castle_broker.py). A whole run is bounded by
--timeout-s: past it the run fails (SIGALRM) rather than hang ctest.
Debian's /usr/bin/python3 is the interpreter the client packages install
into (python3-confluent-kafka, python3-kafka).
"""

import argparse
import faulthandler
import os
import sys
import unittest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--castle", required=True, help="path to the castle binary")
    parser.add_argument("--timeout-s", type=int, default=600)
    parser.add_argument("modules", nargs="+")
    args = parser.parse_args()
    os.environ["CASTLE_BIN"] = os.path.abspath(args.castle)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    # Past the limit, print every thread's stack and exit non-zero.
    faulthandler.dump_traceback_later(args.timeout_s, exit=True)
    suite = unittest.defaultTestLoader.loadTestsFromNames(args.modules)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
