"""cpu_speedup.py: Python's side of bench/cpu_speedup.cpp, which runs it after its own side
(and parses the NAME T s  speedup Sx rows) and prints both speedups side by side.

Counts the primes below N by trial division (odd divisors up to sqrt(n)), split into K chunks
[lo, hi) of equal width, and prints the same lines as the C++ program:
  serial               the chunks one after another
  threads              ThreadPoolExecutor(W): submit() per chunk, then every result() summed
  ppe-fork, ppe-spawn, ppe-forkserver
                       ProcessPoolExecutor(W, mp_context=get_context(m)), the same way
  pool-fork, pool-spawn, pool-forkserver
                       multiprocessing.Pool(W) (context m).map(chunk, chunks, chunksize=1)
W = os.cpu_count(). Every pool is created and warmed before timing: W tasks that meet at a
Barrier(W) (passed through the pool's initializer), so that W workers have started and
answered; start-up is excluded. Each repeat runs the sides in a rotated order; times are
medians, speedup = serial / side. Exits 1 when a count differs from serial's.

The default N is smaller than the C++ program's (a Python loop is ~50-100x slower); the
speedups are what to compare. FLOORS.md: threads 0.94-1.0x, processes 1.34-1.85x on 2 cores.

    python3 bench/cpu_speedup.py [N [K [REPEATS]]]      (defaults 400000 64 3)
"""

import concurrent.futures
import multiprocessing
import os
import statistics
import sys
import threading
import time

import worker_meeting

def is_prime(n):
    if n < 2:
        return False
    if n < 4:
        return True
    if n % 2 == 0:
        return False
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def count_primes(lo, hi):
    return sum(1 for n in range(lo, hi) if is_prime(n))


def count_chunk(c):
    return count_primes(c[0], c[1])


def run_executor(pool, chunks):
    futures = [pool.submit(count_primes, lo, hi) for lo, hi in chunks]
    return sum(f.result() for f in futures)


def main(n, k, repeats):
    workers = os.cpu_count()
    chunks = [(n * i // k, n * (i + 1) // k) for i in range(k)]
    methods = ["fork", "spawn", "forkserver"]
    executors = {}
    pools = {}
    for m in methods:
        ctx = multiprocessing.get_context(m)
        ppe = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=worker_meeting.init, initargs=(ctx.Barrier(workers),))
        pids = {f.result() for f in [ppe.submit(worker_meeting.meet) for _ in range(workers)]}
        assert len(pids) == workers
        executors[m] = ppe
        pool = ctx.Pool(workers, initializer=worker_meeting.init, initargs=(ctx.Barrier(workers),))
        pids = set(pool.map(worker_meeting.meet, range(workers), chunksize=1))
        assert len(pids) == workers
        pools[m] = pool
    threads = concurrent.futures.ThreadPoolExecutor(workers)
    barrier = threading.Barrier(workers)
    for f in [threads.submit(barrier.wait, 60) for _ in range(workers)]:
        f.result()

    sides = [("serial", lambda: sum(count_primes(lo, hi) for lo, hi in chunks)),
             ("threads", lambda: run_executor(threads, chunks))]
    for m in methods:
        sides.append((f"ppe-{m}", lambda e=executors[m]: run_executor(e, chunks)))
    for m in methods:
        sides.append((f"pool-{m}", lambda p=pools[m]: sum(p.map(count_chunk, chunks, chunksize=1))))

    print(f"cpu_speedup.py: primes below {n} by trial division, {k} chunks, {workers} workers "
          f"(os.cpu_count), {repeats} repeats, medians")
    seconds = {name: [] for name, _ in sides}
    counts = {name: set() for name, _ in sides}
    for r in range(repeats):
        for i in range(len(sides)):
            name, run = sides[(i + r) % len(sides)]
            start = time.perf_counter()
            counts[name].add(run())
            seconds[name].append(time.perf_counter() - start)
    serial = statistics.median(seconds["serial"])
    expected = counts["serial"]
    agree = len(expected) == 1
    for name, _ in sides:
        t = statistics.median(seconds[name])
        same = counts[name] == expected
        agree = agree and same
        count = next(iter(counts[name])) if len(counts[name]) == 1 else sorted(counts[name])
        print(f"{name:<16} {t:8.3f} s  speedup {serial / t:5.2f}x  count {count}"
              f"{'' if same else '  MISMATCH'}")
    print(f"check: {'all counts agree' if agree else 'COUNTS DISAGREE'}")
    threads.shutdown()
    for m in methods:
        executors[m].shutdown()
        pools[m].close()
        pools[m].join()
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 400_000,
                  int(sys.argv[2]) if len(sys.argv) > 2 else 64,
                  int(sys.argv[3]) if len(sys.argv) > 3 else 3))
