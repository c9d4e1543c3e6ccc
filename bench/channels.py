"""channels.py: Python's side of bench/channels.cpp.

1. Queue throughput between 2 processes: a child (fork) puts N items, the parent gets them.
   Items: int64 (the ints 0..N-1) and 100-byte strings (12 decimal digits of the index, then
   88 'x'). multiprocessing.Queue and SimpleQueue. The clock starts when the parent has the
   first item (the child's start-up is excluded) and stops at the last: (N-1) / seconds.
   Every item is checked (its index, and the length of a string).
2. Pipe ping-pong: multiprocessing.Pipe(), the parent sends i, the child sends back i + 1;
   microseconds per round trip over R round trips after 200 warm-up ones. Placements: "any"
   (no pinning), "same" (both on CPU 0), "cross" (parent CPU 0, child CPU 1).
3. Manager: Manager().dict() d[k] = i then d[k] (k = i % 64), microseconds per set+get pair
   over M pairs (two requests); Manager().Value('q') .value set+get; per placement, the
   manager's server process (every thread of it) pinned as the ping-pong child is. And
   multiprocessing.Value('q') (with its lock) .value set+get over 100*M pairs, in this process,
   for reference. Each value read is checked.

Each repeat runs every case; figures are medians. Output rows (channels.cpp parses them):
KEY VALUE UNIT, KEY of the form section/kind/side.

    python3 bench/channels.py [N [R [M [REPEATS [PLACEMENTS]]]]]
        defaults 100000 5000 2000 3 any,same,cross
"""

import multiprocessing
import os
import statistics
import sys
import time

PAD = "x" * 88
ALL_CPUS = None


def text(i):
    return f"{i:012d}{PAD}"


def pin(cpu):
    if cpu is None:
        os.sched_setaffinity(0, ALL_CPUS)
    else:
        os.sched_setaffinity(0, {cpu})


def produce(q, n, kind):
    if kind == "int64":
        for i in range(n):
            q.put(i)
    else:
        for i in range(n):
            q.put(f"{i:012d}{PAD}")


def queue_rate(ctx, make, n, kind):
    q = make(ctx)
    p = ctx.Process(target=produce, args=(q, n, kind))
    p.start()
    ok = True
    first = q.get()
    start = time.perf_counter()
    if kind == "int64":
        ok = first == 0
        for i in range(1, n):
            if q.get() != i:
                ok = False
    else:
        ok = len(first) == 100 and int(first[:12]) == 0
        for i in range(1, n):
            x = q.get()
            if len(x) != 100 or int(x[:12]) != i:
                ok = False
    elapsed = time.perf_counter() - start
    p.join()
    ok = ok and p.exitcode == 0
    return (n - 1) / elapsed, ok


def echo(conn, cpu):
    pin(cpu)
    while True:
        x = conn.recv()
        if x < 0:
            break
        conn.send(x + 1)


PLACES = {"any": (None, None), "same": (0, 0), "cross": (0, 1)}


def pingpong_us(ctx, rounds, place):
    mine, theirs = PLACES[place]
    here, there = ctx.Pipe()
    p = ctx.Process(target=echo, args=(there, theirs))
    p.start()
    there.close()
    pin(mine)
    ok = True
    for i in range(200):
        here.send(i)
        ok = ok and here.recv() == i + 1
    start = time.perf_counter()
    for i in range(rounds):
        here.send(i)
        if here.recv() != i + 1:
            ok = False
    elapsed = time.perf_counter() - start
    here.send(-1)
    p.join()
    pin(None)
    return elapsed / rounds * 1e6, ok and p.exitcode == 0


def pin_tasks(pid, cpu):
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), ALL_CPUS if cpu is None else {cpu})
        except OSError:
            pass


def pairs_us(setter, getter, m):
    ok = True
    for i in range(100):
        setter(i)
        ok = ok and getter(i) == i
    start = time.perf_counter()
    for i in range(m):
        setter(i)
        if getter(i) != i:
            ok = False
    return (time.perf_counter() - start) / m * 1e6, ok


def main(n, rounds, m, repeats, places_arg):
    global ALL_CPUS
    ALL_CPUS = os.sched_getaffinity(0)
    ctx = multiprocessing.get_context("fork")
    places = [p for p in places_arg.split(",") if p in PLACES]
    if len(ALL_CPUS) < 2:
        places = [p for p in places if p != "cross"]
    samples = {}
    correct = True

    def add(key, value, ok):
        nonlocal correct
        samples.setdefault(key, []).append(value)
        if not ok:
            print(f"channels.py: {key}: CHECK FAILED", file=sys.stderr)
            correct = False

    manager = ctx.Manager()
    d = manager.dict()
    mv = manager.Value("q", 0)
    v = ctx.Value("q", 0)
    d[0] = 0  # each proxy's connection (and its server thread) exists before pinning
    mv.value = 0

    def dict_set(i):
        d[i % 64] = i

    def dict_get(i):
        return d[i % 64]

    def mv_set(i):
        mv.value = i

    def v_set(i):
        v.value = i

    queues = {"Queue": lambda c: c.Queue(), "SimpleQueue": lambda c: c.SimpleQueue()}
    for r in range(repeats):
        for kind in ("int64", "str100"):
            for name in (list(queues) if r % 2 == 0 else list(queues)[::-1]):
                rate, ok = queue_rate(ctx, queues[name], n, kind)
                add(f"queue/{kind}/{name}", rate, ok)
        for place in places:
            us, ok = pingpong_us(ctx, rounds, place)
            add(f"pipe/{place}/Pipe", us, ok)
        for place in places:
            mine, theirs = PLACES[place]
            pin_tasks(manager._process.pid, theirs)
            pin(mine)
            us, ok = pairs_us(dict_set, dict_get, m)
            add(f"manager/{place}/Manager.dict", us, ok)
            us, ok = pairs_us(mv_set, lambda i: mv.value, m)
            add(f"manager/{place}/Manager.Value", us, ok)
            pin(None)
            pin_tasks(manager._process.pid, None)
        us, ok = pairs_us(v_set, lambda i: v.value, m * 100)
        add("shared/value/mp.Value", us, ok)
    manager.shutdown()

    print(f"channels.py: Python {sys.version.split()[0]}, fork, {repeats} repeats, medians; "
          f"queue N = {n}, ping-pong R = {rounds}, manager M = {m} (mp.Value {m * 100})")
    units = {"queue": "msgs/s", "pipe": "us/roundtrip", "manager": "us/pair",
             "shared": "us/pair"}
    for key, values in samples.items():
        med = statistics.median(values)
        print(f"{key:<34} {med:14.2f} {units[key.split('/')[0]]}")
    print(f"check: {'every item, reply and value as expected' if correct else 'CHECK FAILED'}")
    return 0 if correct else 1


if __name__ == "__main__":
    a = sys.argv
    sys.exit(main(int(a[1]) if len(a) > 1 else 100_000,
                  int(a[2]) if len(a) > 2 else 5000,
                  int(a[3]) if len(a) > 3 else 2000,
                  int(a[4]) if len(a) > 4 else 3,
                  a[5] if len(a) > 5 else "any,same,cross"))
