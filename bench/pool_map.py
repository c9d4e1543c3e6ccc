"""pool_map.py: Python's side of bench/pool_map.cpp.

inc(x) = x + 1 over range(n) at chunksize 1, 10, 100, 1,000 and 10,000, per start method:
  Pool.map                 multiprocessing.Pool(W) (context m).map(inc, range(n), chunksize=c)
  ProcessPoolExecutor.map  ProcessPoolExecutor(W, mp_context=get_context(m))
                           .map(inc, range(n), chunksize=c), the results summed
W = os.cpu_count(). n is N for chunksize >= 100 and N * chunksize // 100 below (N/100 at
chunksize 1, N/10 at chunksize 10), as in the C++ program with --reduced (by default the C++
program maps the full N at every chunksize): Python manages only a few thousand items/s at
chunksize 1, so a million would take minutes. Figures are items/s, so the sizes
compare. Every pool is created and warmed before timing (W tasks that meet at a Barrier(W),
passed through the initializer, so that W workers have started and answered); start-up is
excluded. Each repeat runs every chunksize, the two sides in alternating order; figures are
medians. The sum must be n(n+1)/2: exits 1 on a mismatch.

Output rows (pool_map.cpp parses them): METHOD CHUNKSIZE N POOL_MAP_ITEMS_PER_S PPE_MAP_ITEMS_PER_S

    python3 bench/pool_map.py [N [REPEATS [METHODS]]]     (defaults 1000000 3 forkserver;
                                                            METHODS: comma list or "all")
"""

import concurrent.futures
import multiprocessing
import os
import statistics
import sys
import time

import worker_meeting

CHUNKSIZES = [1, 10, 100, 1000, 10000]
def inc(x):
    return x + 1


def items_for(n, chunksize):
    return n if chunksize >= 100 else n * chunksize // 100


def main(n, repeats, methods_arg):
    workers = os.cpu_count()
    all_methods = ["fork", "spawn", "forkserver"]
    wanted = methods_arg.split(",")
    methods = [m for m in all_methods if methods_arg == "all" or m in wanted]
    if not methods:
        print(f"pool_map.py: unknown METHODS {methods_arg!r}", file=sys.stderr)
        return 2
    sides = {}
    for m in methods:
        ctx = multiprocessing.get_context(m)
        pool = ctx.Pool(workers, initializer=worker_meeting.init, initargs=(ctx.Barrier(workers),))
        assert len(set(pool.map(worker_meeting.meet, range(workers), chunksize=1))) == workers
        ppe = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=worker_meeting.init, initargs=(ctx.Barrier(workers),))
        assert len({f.result() for f in [ppe.submit(worker_meeting.meet) for _ in range(workers)]}) == workers
        sides[m] = (pool, ppe)

    print(f"pool_map.py: inc(x) over range(n), {workers} workers (os.cpu_count), {repeats} "
          f"repeats, medians in items/s; Python {sys.version.split()[0]}")
    print(f"n = {n} for chunksize >= 100, N*chunksize//100 below (smaller n at chunksize 1 "
          f"and 10; items/s compare)")
    seconds = {}
    correct = True
    for r in range(repeats):
        for ci, c in enumerate(CHUNKSIZES):
            items = items_for(n, c)
            expected = items * (items + 1) // 2
            runs = []
            for m in methods:
                pool, ppe = sides[m]
                runs.append((m, 0, lambda p=pool: sum(p.map(inc, range(items), chunksize=c))))
                runs.append((m, 1, lambda e=ppe: sum(e.map(inc, range(items), chunksize=c))))
            for i in range(len(runs)):
                m, side, run = runs[(i + r + ci) % len(runs)]
                start = time.perf_counter()
                total = run()
                seconds.setdefault((m, side, c), []).append(time.perf_counter() - start)
                if total != expected:
                    print(f"pool_map.py: {m} side {side} chunksize {c}: sum {total}, "
                          f"expected {expected}", file=sys.stderr)
                    correct = False

    print(f"{'method':<10} {'chunksize':>9} {'n':>9} {'Pool.map':>14} {'PPE.map':>14}")
    for m in methods:
        for c in CHUNKSIZES:
            items = items_for(n, c)
            rates = [items / statistics.median(seconds[(m, side, c)]) for side in (0, 1)]
            print(f"{m:<10} {c:>9} {items:>9} {rates[0]:>14.0f} {rates[1]:>14.0f}")
    print(f"check: {'every sum is n(n+1)/2' if correct else 'SUM MISMATCH'}")
    sys.stdout.flush()
    for m in methods:
        pool, ppe = sides[m]
        pool.close()
        pool.join()
        ppe.shutdown()
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000,
                  int(sys.argv[2]) if len(sys.argv) > 2 else 3,
                  sys.argv[3] if len(sys.argv) > 3 else "forkserver"))
