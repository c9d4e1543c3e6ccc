#!/usr/bin/env python3
"""Passes when compiling SOURCE fails with a diagnostic containing EXPECTED.

usage: expect_compile_error.py SOURCE EXPECTED COMPILER [COMPILER ARGS...]
"""
import subprocess
import sys

source, expected, *compiler = sys.argv[1:]
result = subprocess.run(compiler + ["-fsyntax-only", source], capture_output=True, text=True)
if result.returncode == 0:
    print(f"{source} compiled, but it must not")
    sys.exit(1)
if expected not in result.stderr:
    print(f"{source} failed to compile without the expected message {expected!r}:")
    print(result.stderr[-4000:])
    sys.exit(1)
print(f"{source}: refused with {expected!r}")
