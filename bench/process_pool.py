"""process_pool.py: Python's side of bench/process_pool.cpp (which runs it, after its own side).

ProcessPoolExecutor(2, mp_context=get_context(m)) per start method m, the same three figures as
the C++ program measures for process_pool_executor:
  cold        submit(trivial, i).result() with a 2 ms sleep before each call (COLD_TRIPS of
              them), so that the worker and the executor's manager thread have gone to sleep;
              the median, us
  warm        submit(trivial, i).result() back to back (WARM_TRIPS of them); the median, us
  throughput  COUNT submits, then every result() gathered: tasks/s
Each executor is warmed first: 2 tasks that meet at a Barrier(2) (passed through the
initializer), so that both workers have started and answered, then one more round trip; start-up
is excluded. The sum of the throughput results is checked (exits 1 on a mismatch).

Output rows (process_pool.cpp parses them, one per method):
    METHOD COLD_US WARM_US TASKS_PER_S COUNT

    python3 bench/process_pool.py [COUNT [METHODS [COLD_TRIPS [WARM_TRIPS]]]]
        defaults 50000 all 200 2000; METHODS: a comma list of fork, spawn, forkserver, or "all".
        About 7 s per method on the 2-core VM (COUNT at 2-10k tasks/s is most of it).
"""

import concurrent.futures
import multiprocessing
import statistics
import sys
import time

import worker_meeting

def trivial(x):
    return x + 1


def measure(method, count, cold_trips, warm_trips):
    ctx = multiprocessing.get_context(method)
    with concurrent.futures.ProcessPoolExecutor(
            2, mp_context=ctx, initializer=worker_meeting.init, initargs=(ctx.Barrier(2),)) as pool:
        assert len({f.result() for f in [pool.submit(worker_meeting.meet) for _ in range(2)]}) == 2
        pool.submit(trivial, 0).result()
        cold = []
        for i in range(cold_trips):
            time.sleep(0.002)
            start = time.perf_counter()
            pool.submit(trivial, i).result()
            cold.append((time.perf_counter() - start) * 1e6)
        warm = []
        for i in range(warm_trips):
            start = time.perf_counter()
            pool.submit(trivial, i).result()
            warm.append((time.perf_counter() - start) * 1e6)
        start = time.perf_counter()
        futures = [pool.submit(trivial, i) for i in range(count)]
        total = sum(f.result() for f in futures)
        seconds = time.perf_counter() - start
    return statistics.median(cold), statistics.median(warm), count / seconds, total


def main(count, methods_arg, cold_trips, warm_trips):
    wanted = methods_arg.split(",")
    methods = [m for m in ("fork", "spawn", "forkserver") if methods_arg == "all" or m in wanted]
    if not methods or count < 1 or cold_trips < 1 or warm_trips < 1:
        print("process_pool.py: bad arguments", file=sys.stderr)
        return 2
    print(f"process_pool.py: ProcessPoolExecutor(2); cold: median of {cold_trips} round trips "
          f"after 2 ms sleeps; warm: median of {warm_trips} back to back; throughput: {count} "
          f"submits then gathered; Python {sys.version.split()[0]}")
    print(f"{'method':<10} {'cold_us':>9} {'warm_us':>9} {'tasks/s':>10} {'count':>8}")
    correct = True
    for m in methods:
        cold, warm, rate, total = measure(m, count, cold_trips, warm_trips)
        if total != count * (count + 1) // 2:
            print(f"process_pool.py: {m}: sum {total}, expected {count * (count + 1) // 2}",
                  file=sys.stderr)
            correct = False
        print(f"{m:<10} {cold:9.1f} {warm:9.1f} {rate:10.0f} {count:8d}", flush=True)
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000,
                  sys.argv[2] if len(sys.argv) > 2 else "all",
                  int(sys.argv[3]) if len(sys.argv) > 3 else 200,
                  int(sys.argv[4]) if len(sys.argv) > 4 else 2000))
