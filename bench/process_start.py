"""process_start.py: the Python half of bench/process_start.cpp.

For each start method, COUNT times Process(target=noop).start() then join(); prints one line
per method:

    method=<fork|spawn|forkserver> us=<mean microseconds per start+join>

    python3 bench/process_start.py [COUNT]
"""

import multiprocessing
import sys
import time


def noop():
    pass


def main(count):
    for method in ("fork", "spawn", "forkserver"):
        ctx = multiprocessing.get_context(method)
        p = ctx.Process(target=noop)  # warm-up: the forkserver starts here
        p.start()
        p.join()
        start = time.perf_counter()
        for _ in range(count):
            p = ctx.Process(target=noop)
            p.start()
            p.join()
        print(f"method={method} us={(time.perf_counter() - start) / count * 1e6:.1f}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
