"""Python's side of bench/uneven_tasks: one long call, then many short ones, per round.

Run by build/bench/uneven_tasks (python3 uneven_tasks.py ROUNDS SHORTS SHORT_US LONG_MS
WORKERS); prints, for ProcessPoolExecutor and Pool.apply_async (forkserver), per round how
long until the short calls were done, how long until the long one was, and how many short
calls ran in the long call's worker after it.
"""

import concurrent.futures
import multiprocessing
import os
import statistics
import sys
import time


def busy_then_pid(microseconds):
    until = time.perf_counter() + microseconds / 1e6
    while time.perf_counter() < until:
        pass
    return os.getpid()


def run_round(submit, shorts, short_us, long_ms):
    start = time.perf_counter()
    longest = submit(long_ms * 1000)
    futures = [submit(short_us) for _ in range(shorts)]
    pids = [f() for f in futures]
    shorts_done = time.perf_counter()
    long_pid = longest()
    long_done = time.perf_counter()
    behind = sum(1 for pid in pids if pid == long_pid)
    return (shorts_done - start) * 1e3, (long_done - start) * 1e3, behind


def measure(name, submit, rounds, shorts, short_us, long_ms):
    warm = [submit(short_us) for _ in range(200)]
    for f in warm:
        f()
    done_ms = []
    behind_counts = []
    for r in range(rounds):
        shorts_ms, long_done_ms, behind = run_round(submit, shorts, short_us, long_ms)
        done_ms.append(shorts_ms)
        behind_counts.append(behind)
        print(f"{name} round {r + 1}: short calls done after {shorts_ms:8.1f} ms, "
              f"the long one after {long_done_ms:8.1f} ms, {behind:4d} short calls waited "
              f"behind it")
    print(f"{name} median: short calls done after {statistics.median(done_ms):.1f} ms, "
          f"{statistics.median(behind_counts):.0f} behind the long one")
    sys.stdout.flush()


def main():
    rounds, shorts, short_us, long_ms, workers = (int(a) for a in sys.argv[1:6])
    context = multiprocessing.get_context("forkserver")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as executor:
        measure("python ProcessPoolExecutor",
                lambda us: executor.submit(busy_then_pid, us).result,
                rounds, shorts, short_us, long_ms)
    with context.Pool(workers) as pool:
        measure("python Pool.apply_async",
                lambda us: pool.apply_async(busy_then_pid, (us,)).get,
                rounds, shorts, short_us, long_ms)


if __name__ == "__main__":
    main()
