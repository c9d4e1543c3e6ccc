"""process_pool.py: Python's side of bench/process_pool.cpp.

ProcessPoolExecutor(2): ROUND_TRIPS times submit(f, i).result() back to back, then TASKS
submits gathered. Prints round_trip_us=<mean> and tasks_per_s=<throughput>.

    python3 bench/process_pool.py [TASKS [ROUND_TRIPS]]
"""

import concurrent.futures
import sys
import time


def noop(x):
    return x


def main(tasks, round_trips):
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        pool.submit(noop, 1).result()
        start = time.perf_counter()
        for i in range(round_trips):
            pool.submit(noop, i).result()
        print(f"round_trip_us={(time.perf_counter() - start) / round_trips * 1e6:.1f}")
        start = time.perf_counter()
        futures = [pool.submit(noop, i) for i in range(tasks)]
        for f in futures:
            f.result()
        print(f"tasks_per_s={tasks / (time.perf_counter() - start):.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000,
         int(sys.argv[2]) if len(sys.argv) > 2 else 500)
