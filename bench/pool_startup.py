"""pool_startup.py: Python's side of bench/pool_startup.cpp, which runs it after its own side,
parses both tables (a section starts at its "ProcessPoolExecutor" / "Pool" header line) and
prints Python / weft per start method.

Per start method, RUNS times (methods rotated between runs), medians in ms:
  ProcessPoolExecutor(W, mp_context=ctx)
    construct  the constructor alone (3.11 starts the workers lazily, at the first submit)
    ready      from the constructor until W tasks have been answered by W distinct workers:
               each task waits at a Barrier(W) (given to the workers through the initializer,
               created before the clock starts) and returns getpid(); a fast worker cannot
               take two of them
    shutdown   shutdown(wait=True)
    replace    not measurable: a worker killed with SIGKILL breaks the pool (every pending
               and later submit fails with BrokenProcessPool). The program checks this once
               per method and prints what it saw.
  multiprocessing.Pool(W) (context ctx)
    construct, ready (pool.map(meet, range(W), chunksize=1)), shutdown (close() + join())
    replace    not timed: Pool does start a replacement for a dead worker (its handler thread
               looks every 0.1 s), but an idle worker killed with SIGKILL may be the one
               blocked inside the task queue's read lock (or half-way through reading a
               task), and then the pool hangs for good (terminate() included) or a worker dies
               of a truncated pickle. Tried by hand on this machine: 4 of 7 kills hung.

    python3 bench/pool_startup.py [WORKERS [RUNS]]      (defaults cpu_count, 10)
"""

import concurrent.futures
import multiprocessing
import os
import signal
import statistics
import sys
import time

import worker_meeting

def _ms(start):
    return (time.perf_counter() - start) * 1e3


def ppe_run(ctx, workers, out):
    barrier = ctx.Barrier(workers)
    t0 = time.perf_counter()
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=worker_meeting.init, initargs=(barrier,))
    out["construct"].append(_ms(t0))
    pids = {f.result() for f in [pool.submit(worker_meeting.meet) for _ in range(workers)]}
    out["ready"].append(_ms(t0))
    assert len(pids) == workers, pids
    t1 = time.perf_counter()
    pool.shutdown(wait=True)
    out["shutdown"].append(_ms(t1))


def ppe_kill(ctx, workers):
    """What a SIGKILLed idle worker does to a ProcessPoolExecutor."""
    barrier = ctx.Barrier(workers)
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=worker_meeting.init, initargs=(barrier,))
    pids = sorted({f.result() for f in [pool.submit(worker_meeting.meet) for _ in range(workers)]})
    os.kill(pids[0], signal.SIGKILL)
    time.sleep(0.5)
    try:
        pool.submit(os.getpid).result(timeout=10)
        seen = "still works"
    except concurrent.futures.process.BrokenProcessPool:
        seen = "BrokenProcessPool"
    except concurrent.futures.TimeoutError:
        seen = "hangs"
    pool.shutdown(wait=True)
    return seen


def pool_run(ctx, workers, out):
    barrier = ctx.Barrier(workers)
    t0 = time.perf_counter()
    pool = ctx.Pool(workers, initializer=worker_meeting.init, initargs=(barrier,))
    out["construct"].append(_ms(t0))
    pids = set(pool.map(worker_meeting.meet, range(workers), chunksize=1))
    out["ready"].append(_ms(t0))
    assert len(pids) == workers, pids
    t1 = time.perf_counter()
    pool.close()
    pool.join()
    out["shutdown"].append(_ms(t1))


def _med(values):
    return f"{statistics.median(values):9.2f}" if values else f"{'-':>9}"


def main(workers, runs):
    methods = ["fork", "spawn", "forkserver"]
    ppe = {m: {"construct": [], "ready": [], "shutdown": []} for m in methods}
    pool = {m: {"construct": [], "ready": [], "shutdown": []} for m in methods}
    first = {}
    for r in range(runs):
        for i in range(len(methods)):
            m = methods[(i + r) % len(methods)]
            ctx = multiprocessing.get_context(m)
            ppe_run(ctx, workers, ppe[m])
            first.setdefault(m, ppe[m]["ready"][0])
            pool_run(ctx, workers, pool[m])
    killed = {m: ppe_kill(multiprocessing.get_context(m), workers) for m in methods}

    print(f"pool_startup.py: {workers} workers, {runs} runs, medians in ms")
    print(f"{'ProcessPoolExecutor':<20} {'construct':>9} {'ready':>9} {'(first)':>9} "
          f"{'shutdown':>9}  after kill -9 of a worker")
    for m in methods:
        s = ppe[m]
        print(f"{m:<20} {_med(s['construct'])} {_med(s['ready'])} {first[m]:9.2f} "
              f"{_med(s['shutdown'])}  {killed[m]}")
    print(f"{'Pool':<20} {'construct':>9} {'ready':>9} {'shutdown':>9}")
    for m in methods:
        s = pool[m]
        print(f"{m:<20} {_med(s['construct'])} {_med(s['ready'])} {_med(s['shutdown'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count(),
                  int(sys.argv[2]) if len(sys.argv) > 2 else 10))
