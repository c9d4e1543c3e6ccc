"""thread_pool.py: the Python half of bench/thread_pool.cpp.

ThreadPoolExecutor (default max_workers): ROUND_TRIPS times submit(f).result() back to back,
then TASKS no-op tasks submitted and every result waited for. Prints one line:

    round_trip_us=<mean> tasks_per_s=<throughput>

    python3 bench/thread_pool.py [TASKS [ROUND_TRIPS]]
"""

import concurrent.futures
import sys
import time


def noop():
    pass


def main(tasks, round_trips):
    with concurrent.futures.ThreadPoolExecutor() as pool:
        pool.submit(noop).result()
        start = time.perf_counter()
        for _ in range(round_trips):
            pool.submit(noop).result()
        round_trip = (time.perf_counter() - start) / round_trips
        start = time.perf_counter()
        futures = [pool.submit(noop) for _ in range(tasks)]
        for f in futures:
            f.result()
        throughput = tasks / (time.perf_counter() - start)
    print(f"round_trip_us={round_trip * 1e6:.2f} tasks_per_s={throughput:.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
         int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
