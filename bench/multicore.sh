#!/bin/bash
# The pools' multi-core scaling on a machine with many cores: the CPU-bound speedup at two
# granularities, the map against Python's Pool.map, the pool round trips and start-up, and the
# channels, each against its floor or Python in the same run. Python 3 must be on PATH.
#
#   bench/multicore.sh [BIN_DIR]      (default build/bench; run from the repository root)
#
# BIN_DIR may hold release builds copied from another machine (with LD_LIBRARY_PATH set for
# the libraries they need there).
set -u
bin=${1:-build/bench}
export PYTHONUNBUFFERED=1
step() { echo; echo "### $(date -u +%H:%M:%S) \$ $*"; timeout 180 "$@"; }
echo "### $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo)"
step "$bin/cpu_speedup"
step "$bin/cpu_speedup" 6000000 256 3
step "$bin/cpu_speedup" 30000000 256 3
step python3 bench/cpu_speedup.py 2000000 256 1
step "$bin/pool_map" 1000000 3 forkserver bench/pool_map.py
step "$bin/process_pool"
step python3 bench/process_pool.py
step "$bin/pool_startup"
step python3 bench/pool_startup.py
step "$bin/channels"
