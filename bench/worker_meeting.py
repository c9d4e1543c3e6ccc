"""Warming a Python process pool before any timing: W tasks that meet at a Barrier(W), which
reaches the workers through the pool's initializer, so that W distinct workers have started and
answered. Shared by process_pool.py, cpu_speedup.py, pool_map.py and pool_startup.py (a module
of its own so that spawn and forkserver children, which import it by name, find the same
functions)."""

import os

_barrier = None


def init(barrier):
    global _barrier
    _barrier = barrier


def meet(_=None):
    _barrier.wait(60)
    return os.getpid()
