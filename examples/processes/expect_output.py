#!/usr/bin/env python3
"""Runs an example and checks what it printed, so that an example that exits 0 but shows the
wrong thing (a fork child that did not inherit, a lock that was free) fails as a test.

usage: expect_output.py EXE [PATTERN ...]
Each PATTERN is a Python regular expression that must match somewhere in the example's
standard output (re.MULTILINE). The example's own exit status must be 0.
"""
import re
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe, patterns = sys.argv[1], sys.argv[2:]
    # No timeout of its own: meson's (60 s, times 3 in the sanitizer builds) ends a hung
    # example with its whole process group. A 50 s one here failed the thousand-process
    # example under AddressSanitizer on a VM whose page faults cost 10-30 µs (111 s there).
    run = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        print(f"expect_output: {exe} exited with {run.returncode}", file=sys.stderr)
        return 1
    missing = [p for p in patterns if not re.search(p, run.stdout, re.MULTILINE)]
    for pattern in missing:
        print(f"expect_output: {exe} printed nothing matching {pattern!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
