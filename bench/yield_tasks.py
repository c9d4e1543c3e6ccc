"""yield_tasks.py: the asyncio half of bench/yield_tasks.cpp.

Creates TASKS asyncio tasks (default 100,000), each awaiting asyncio.sleep(0) YIELDS times
(default 10), and gathers them. Prints one line:

    seconds=<from the first create_task to gather's return> bytes_per_task=<peak RSS growth / TASKS>

bench/yield_tasks runs it in the same run as the weft side; it can also be run alone:

    python3 bench/yield_tasks.py [TASKS [YIELDS]]
"""

import asyncio
import resource
import sys
import time


async def worker(yields):
    for _ in range(yields):
        await asyncio.sleep(0)


async def main(tasks, yields):
    # ru_maxrss is the peak so far, in KiB on Linux; the peak is reached while every task is alive.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    pending = [asyncio.create_task(worker(yields)) for _ in range(tasks)]
    await asyncio.gather(*pending)
    elapsed = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"seconds={elapsed:.6f} bytes_per_task={(rss_after - rss_before) * 1024 / tasks:.1f}")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    per_task = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    asyncio.run(main(count, per_task))
