"""shared_value.py: Python's side of bench/shared_value.cpp.

1. Locked increments: multiprocessing.Value('q', 0) (its own RLock), 2 forkserver processes
   each doing N times `with v.get_lock(): v.value += 1` (what users write; note that v.value
   takes the same RLock again, recursively, for the read and for the write). The children wait
   at a Barrier with the parent, stamp time.monotonic_ns() (CLOCK_MONOTONIC, as the C++ side)
   before and after their loop; figure: (last end - first start) / 2N in ns per increment.
   The final value must be 2N.
2. Ping-pong: two multiprocessing.Semaphore(0), parent release(a); acquire(b), a forkserver
   child the mirror image; N_PP round trips after one warm-up post; µs per round trip. In the
   C++ side's three placements: free (unpinned), same (both on CPU 0), cross (parent on CPU 0,
   child on CPU 1), by os.sched_setaffinity.
3. Uncontended: multiprocessing.Lock() acquire(); release() N_UNC times in one process (bound
   methods hoisted out of the loop), ns per pair; and the same for RLock.
Medians over REPEATS. Output lines that shared_value.cpp parses: `result KEY VALUE`.

    python3 bench/shared_value.py [N [N_PP [N_UNC [REPEATS]]]]   (defaults 500000 5000 2000000 3)
"""

import multiprocessing
import os
import statistics
import sys
import time


def increment_child(v, barrier, stamps, slot, n):
    barrier.wait()
    start = time.monotonic_ns()
    for _ in range(n):
        with v.get_lock():
            v.value += 1
    end = time.monotonic_ns()
    stamps[2 * slot] = start
    stamps[2 * slot + 1] = end


def pin(cpu):
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def pingpong_child(ping, pong, cpu, n):
    pin(cpu)
    pong.release()  # ready
    for _ in range(n):
        ping.acquire()
        pong.release()


def run_increments(ctx, n):
    v = ctx.Value('q', 0)
    barrier = ctx.Barrier(3)
    stamps = ctx.Array('q', 4, lock=False)
    children = [ctx.Process(target=increment_child, args=(v, barrier, stamps, slot, n))
                for slot in range(2)]
    for c in children:
        c.start()
    barrier.wait()
    for c in children:
        c.join()
    if any(c.exitcode != 0 for c in children):
        raise RuntimeError("an increment child failed")
    first = min(stamps[0], stamps[2])
    last = max(stamps[1], stamps[3])
    return (last - first) / (2 * n), v.value


PLACEMENTS = ["free", "same", "cross"]


def run_pingpong(ctx, n, placement="free"):
    ping = ctx.Semaphore(0)
    pong = ctx.Semaphore(0)
    original = os.sched_getaffinity(0)
    pin(None if placement == "free" else 0)
    child_cpu = {"free": None, "same": 0, "cross": 1}[placement]
    child = ctx.Process(target=pingpong_child, args=(ping, pong, child_cpu, n))
    child.start()
    pong.acquire()
    start = time.monotonic_ns()
    release, acquire = ping.release, pong.acquire
    for _ in range(n):
        release()
        acquire()
    end = time.monotonic_ns()
    child.join()
    os.sched_setaffinity(0, original)
    if child.exitcode != 0:
        raise RuntimeError("the ping-pong child failed")
    return (end - start) / 1e3 / n


def run_uncontended(lock, n):
    acquire, release = lock.acquire, lock.release
    start = time.monotonic_ns()
    for _ in range(n):
        acquire()
        release()
    return (time.monotonic_ns() - start) / n


def main(n, n_pp, n_unc, repeats):
    ctx = multiprocessing.get_context("forkserver")
    run_pingpong(ctx, 1)  # the fork server starts here, not inside a timing
    print(f"shared_value.py: {repeats} repeats, medians; Python {sys.version.split()[0]}")
    placements = PLACEMENTS if os.cpu_count() >= 2 else PLACEMENTS[:2]
    inc, lock_ns, rlock_ns = [], [], []
    pp = {p: [] for p in placements}
    correct = True
    totals = []
    for r in range(repeats):
        ns, total = run_increments(ctx, n)
        inc.append(ns)
        totals.append(total)
        if total != 2 * n:
            correct = False
        for i in range(len(placements)):
            p = placements[(i + r) % len(placements)]
            pp[p].append(run_pingpong(ctx, n_pp, p))
        lock_ns.append(run_uncontended(ctx.Lock(), n_unc))
        rlock_ns.append(run_uncontended(ctx.RLock(), n_unc))
        print(f"repeat {r + 1}: increment {ns:.1f} ns (total {total}{'' if total == 2 * n else ' WRONG'})"
              f"  ping-pong {' '.join(f'{p} {pp[p][-1]:.2f}' for p in placements)} us  Lock {lock_ns[-1]:.1f} ns  RLock {rlock_ns[-1]:.1f} ns")
        sys.stdout.flush()
    print(f"1. Value increments, 2 processes x {n}: {statistics.median(inc):.1f} ns per increment")
    print(f"2. Semaphore ping-pong, {n_pp} round trips, us per round trip: "
          + ", ".join(f"{p} {statistics.median(pp[p]):.2f}" for p in placements))
    print(f"3. uncontended acquire+release, {n_unc} pairs: Lock {statistics.median(lock_ns):.1f} ns, "
          f"RLock {statistics.median(rlock_ns):.1f} ns")
    print(f"check: {'every total is 2N' if correct else 'TOTAL MISMATCH'}")
    print(f"result increment_ns {statistics.median(inc):.3f}")
    print(f"result increment_total {min(totals) if not correct else 2 * n}")
    for p in placements:
        print(f"result pingpong_us_{p} {statistics.median(pp[p]):.4f}")
    print(f"result lock_ns {statistics.median(lock_ns):.3f}")
    print(f"result rlock_ns {statistics.median(rlock_ns):.3f}")
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500_000,
                  int(sys.argv[2]) if len(sys.argv) > 2 else 5_000,
                  int(sys.argv[3]) if len(sys.argv) > 3 else 2_000_000,
                  int(sys.argv[4]) if len(sys.argv) > 4 else 3))
