// channels: weft::queue, weft::pipe and weft::manager between processes against raw floors and
// Python's multiprocessing, ratios in one run.
//
// 1. Queue throughput, 2 processes: a child (weft::process, fork) puts N items, the parent gets
//    them. Items: int64 (0..N-1) and 100-byte std::strings (12 decimal digits of the index, then
//    88 'x'). The clock starts when the parent has the first item (start-up excluded) and stops
//    at the last: msgs/s = (N-1) / seconds. Floors, each a forked child writing N records:
//      pipe(2)  one write(2) per record (8 bytes, or the 100 bytes of the string), the parent
//               read(2)s each record whole (a string is made of the 100 bytes, as get() makes one)
//      spsc     a lock-free single-producer single-consumer ring in MAP_SHARED memory, 4096 slots
//               of 8 or 104 bytes, both sides spinning (then sched_yield) on full / empty: the
//               least a cross-process queue can cost here (FLOORS.md 7); no sleeping, no lock
//    Target: weft >= 20x Python's multiprocessing.Queue.
// 2. Pipe ping-pong: the parent sends i, the child sends back i + 1; us per round trip over R
//    round trips after 200 warm-up ones. weft::pipe<int64_t>() send/recv, against a plain
//    AF_UNIX SOCK_STREAM socketpair and a pair of pipe(2)s, each a blocking write/read of 8
//    bytes per message. Placements: any (no pinning), same (both on CPU 0), cross (parent on
//    CPU 0, child on CPU 1): an unpinned pair is bimodal on this VM (FLOORS.md 1).
//    Target: weft <= 1.2x the socketpair floor.
// 3. Manager: weft::manager (fork) dict<int64_t, int64_t> set(k, i) then get(k), k = i % 64,
//    us per set+get pair over M pairs (two requests, each a round trip to the server process);
//    value<int64_t> set+get; per placement, with the server process (every thread of it) pinned
//    as the ping-pong child is. And shared_value<int64_t> (its own lock) set+get over 100*M
//    pairs in the parent: what the manager's flexibility costs against shared memory.
// Every item, reply and value read is checked; the program exits 1 on a mismatch. Each repeat
// runs every case, the sides of a case in rotated order; figures are medians over REPEATS.
//
// Then, unless SCRIPT is "-", it runs `python3 SCRIPT PY_N R M REPEATS PLACEMENTS` (channels.py:
// multiprocessing.Queue and SimpleQueue, Pipe, Manager().dict(), Manager().Value, Value, all
// with fork) and prints the ratios. No time is asserted.
//
// Run: build/bench/channels [N [R [M [REPEATS [PLACEMENTS [SCRIPT [PY_N]]]]]]]
//      defaults 1000000 5000 2000 3 any,same,cross bench/channels.py N/10. 30-60 s in all on
//      the 2-core VM, about half of it Python. Results: BENCHMARKS.md, "channels".

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <sched.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bench/support/bench_support.hpp"
#include "bench/support/run_command.hpp"

#ifndef WEFT_CHANNELS_PY
#define WEFT_CHANNELS_PY "bench/channels.py"
#endif

namespace
{

using i64 = std::int64_t;
constexpr std::size_t text_size = 100;
constexpr std::size_t digits = 12;

// Writes i's 12 digits into the first bytes of `s` (size 100, 'x' after them).
void stamp(std::string& s, i64 i)
{
    for (std::size_t d = digits; d-- > 0; i /= 10)
    {
        s[d] = static_cast<char>('0' + i % 10);
    }
}

bool text_ok(const char* s, std::size_t size, i64 i)
{
    if (size != text_size || s[text_size - 1] != 'x')
    {
        return false;
    }
    i64 v = 0;
    for (std::size_t d = 0; d < digits; ++d)
    {
        v = v * 10 + (s[d] - '0');
    }
    return v == i;
}

cpu_set_t g_all_cpus;

// Pins the calling process to `cpu`, or to every CPU it started with (-1).
void pin(int cpu)
{
    if (cpu < 0)
    {
        (void)::sched_setaffinity(0, sizeof g_all_cpus, &g_all_cpus);
        return;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    (void)::sched_setaffinity(0, sizeof one, &one);
}

bool write_all(int fd, const void* p, std::size_t n)
{
    const auto* b = static_cast<const char*>(p);
    while (n > 0)
    {
        const ssize_t w = ::write(fd, b, n);
        if (w < 0 && errno == EINTR)
        {
            continue;
        }
        if (w <= 0)
        {
            return false;
        }
        b += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

bool read_all(int fd, void* p, std::size_t n)
{
    auto* b = static_cast<char*>(p);
    while (n > 0)
    {
        const ssize_t r = ::read(fd, b, n);
        if (r < 0 && errno == EINTR)
        {
            continue;
        }
        if (r <= 0)
        {
            return false;
        }
        b += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

// Forks a child that runs fn() and _exits with its result (0 = fine).
template <class Fn>
pid_t fork_child(Fn fn)
{
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0)
    {
        std::perror("channels: fork");
        std::exit(1);
    }
    if (pid == 0)
    {
        ::_exit(fn());
    }
    return pid;
}

bool reaped_fine(pid_t pid)
{
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// ---------------------------------------------------------------- 1. queue throughput

struct rate_result
{
    double msgs_per_s;
    bool ok;
};

void weft_produce_ints(weft::queue<i64> q, i64 n)
{
    for (i64 i = 0; i < n; ++i)
    {
        q.put(i);
    }
}

void weft_produce_text(weft::queue<std::string> q, i64 n)
{
    std::string s(text_size, 'x');
    for (i64 i = 0; i < n; ++i)
    {
        stamp(s, i);
        q.put(s);
    }
}

rate_result weft_queue_ints(i64 n)
{
    weft::queue<i64> q;
    weft::process child({.start_method = weft::start_method::fork}, weft_produce_ints, q, n);
    child.start();
    bool ok = q.get() == 0;
    const auto start = bench::now_ns();
    for (i64 i = 1; i < n; ++i)
    {
        ok = (q.get() == i) && ok;
    }
    const auto ns = bench::now_ns() - start;
    child.join();
    ok = ok && child.exitcode().value_or(-1) == 0;
    return {static_cast<double>(n - 1) * 1e9 / static_cast<double>(ns), ok};
}

rate_result weft_queue_text(i64 n)
{
    weft::queue<std::string> q;
    weft::process child({.start_method = weft::start_method::fork}, weft_produce_text, q, n);
    child.start();
    std::string first = q.get();
    bool ok = text_ok(first.data(), first.size(), 0);
    const auto start = bench::now_ns();
    for (i64 i = 1; i < n; ++i)
    {
        const std::string s = q.get();
        ok = text_ok(s.data(), s.size(), i) && ok;
    }
    const auto ns = bench::now_ns() - start;
    child.join();
    ok = ok && child.exitcode().value_or(-1) == 0;
    return {static_cast<double>(n - 1) * 1e9 / static_cast<double>(ns), ok};
}

// pipe(2): one write per record, one whole-record read per record.
rate_result pipe_queue(i64 n, bool text)
{
    int fds[2];
    if (::pipe(fds) != 0)
    {
        std::perror("channels: pipe");
        std::exit(1);
    }
    const pid_t pid = fork_child(
        [&]
        {
            ::close(fds[0]);
            std::string s(text_size, 'x');
            for (i64 i = 0; i < n; ++i)
            {
                if (text)
                {
                    stamp(s, i);
                    if (!write_all(fds[1], s.data(), text_size))
                    {
                        return 1;
                    }
                }
                else if (!write_all(fds[1], &i, sizeof i))
                {
                    return 1;
                }
            }
            return 0;
        });
    ::close(fds[1]);
    bool ok = true;
    std::int64_t start = 0;
    char buffer[text_size];
    for (i64 i = 0; i < n; ++i)
    {
        if (text)
        {
            ok = read_all(fds[0], buffer, text_size) && ok;
            const std::string s(buffer, text_size);
            ok = text_ok(s.data(), s.size(), i) && ok;
        }
        else
        {
            i64 v = -1;
            ok = read_all(fds[0], &v, sizeof v) && v == i && ok;
        }
        if (i == 0)
        {
            start = bench::now_ns();
        }
    }
    const auto ns = bench::now_ns() - start;
    ::close(fds[0]);
    ok = reaped_fine(pid) && ok;
    return {static_cast<double>(n - 1) * 1e9 / static_cast<double>(ns), ok};
}

// A lock-free SPSC ring in MAP_SHARED memory; slots of 8 bytes or of a length and 100 bytes.
constexpr std::size_t ring_slots = 4096;
struct slot
{
    std::uint32_t length;
    char bytes[text_size];
};
struct spsc_ring
{
    alignas(64) std::atomic<std::uint64_t> head; // next to read
    alignas(64) std::atomic<std::uint64_t> tail; // next to write
    alignas(64) i64 ints[ring_slots];
    slot texts[ring_slots];
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

inline void backoff(unsigned& spins)
{
    if (++spins < 1000)
    {
        __builtin_ia32_pause();
    }
    else
    {
        ::sched_yield();
    }
}

rate_result spsc_queue(i64 n, bool text)
{
    void* memory = ::mmap(nullptr, sizeof(spsc_ring), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
    {
        std::perror("channels: mmap");
        std::exit(1);
    }
    auto* ring = new (memory) spsc_ring{};
    const pid_t pid = fork_child(
        [&]
        {
            std::string s(text_size, 'x');
            std::uint64_t head = 0;
            for (i64 i = 0; i < n; ++i)
            {
                const std::uint64_t tail = static_cast<std::uint64_t>(i);
                unsigned spins = 0;
                while (tail - head == ring_slots)
                {
                    head = ring->head.load(std::memory_order_acquire);
                    if (tail - head == ring_slots)
                    {
                        backoff(spins);
                    }
                }
                if (text)
                {
                    stamp(s, i);
                    slot& to = ring->texts[tail % ring_slots];
                    to.length = text_size;
                    std::memcpy(to.bytes, s.data(), text_size);
                }
                else
                {
                    ring->ints[tail % ring_slots] = i;
                }
                ring->tail.store(tail + 1, std::memory_order_release);
            }
            return 0;
        });
    bool ok = true;
    std::int64_t start = 0;
    std::uint64_t tail = 0;
    for (i64 i = 0; i < n; ++i)
    {
        const auto head = static_cast<std::uint64_t>(i);
        unsigned spins = 0;
        while (head == tail)
        {
            tail = ring->tail.load(std::memory_order_acquire);
            if (head == tail)
            {
                backoff(spins);
            }
        }
        if (text)
        {
            const slot& from = ring->texts[head % ring_slots];
            const std::string s(from.bytes, from.length);
            ok = text_ok(s.data(), s.size(), i) && ok;
        }
        else
        {
            ok = ring->ints[head % ring_slots] == i && ok;
        }
        ring->head.store(head + 1, std::memory_order_release);
        if (i == 0)
        {
            start = bench::now_ns();
        }
    }
    const auto ns = bench::now_ns() - start;
    ok = reaped_fine(pid) && ok;
    ::munmap(memory, sizeof(spsc_ring));
    return {static_cast<double>(n - 1) * 1e9 / static_cast<double>(ns), ok};
}

// ---------------------------------------------------------------- 2. ping-pong

struct place
{
    const char* name;
    int parent_cpu;
    int child_cpu;
};
constexpr place all_places[] = {{"any", -1, -1}, {"same", 0, 0}, {"cross", 0, 1}};
constexpr int warm_rounds = 200;

struct latency_result
{
    double us;
    bool ok;
};

void weft_echo(weft::connection<i64> c, int cpu)
{
    pin(cpu);
    for (;;)
    {
        const i64 x = c.recv();
        if (x < 0)
        {
            return;
        }
        c.send(x + 1);
    }
}

latency_result weft_pingpong(int rounds, const place& p)
{
    auto [here, there] = weft::pipe<i64>();
    weft::process child({.start_method = weft::start_method::fork}, weft_echo, there, p.child_cpu);
    child.start();
    there.close();
    pin(p.parent_cpu);
    bool ok = true;
    for (int i = 0; i < warm_rounds; ++i)
    {
        here.send(i);
        ok = here.recv() == i + 1 && ok;
    }
    const auto start = bench::now_ns();
    for (int i = 0; i < rounds; ++i)
    {
        here.send(i);
        ok = here.recv() == i + 1 && ok;
    }
    const auto ns = bench::now_ns() - start;
    here.send(-1);
    child.join();
    pin(-1);
    ok = ok && child.exitcode().value_or(-1) == 0;
    return {static_cast<double>(ns) / 1e3 / rounds, ok};
}

// A raw ping-pong of 8-byte messages: the parent writes to `out` and reads `in`; the child reads
// `child_in` and writes `child_out`.
latency_result raw_pingpong(int rounds, const place& p, int out, int in, int child_in,
                            int child_out)
{
    const pid_t pid = fork_child(
        [&]
        {
            ::close(out);
            ::close(in);
            pin(p.child_cpu);
            for (;;)
            {
                i64 x = 0;
                if (!read_all(child_in, &x, sizeof x))
                {
                    return 1;
                }
                if (x < 0)
                {
                    return 0;
                }
                ++x;
                if (!write_all(child_out, &x, sizeof x))
                {
                    return 1;
                }
            }
        });
    ::close(child_in);
    if (child_out != child_in)
    {
        ::close(child_out);
    }
    pin(p.parent_cpu);
    bool ok = true;
    auto round = [&](i64 i)
    {
        i64 x = i;
        ok = write_all(out, &x, sizeof x) && read_all(in, &x, sizeof x) && x == i + 1 && ok;
    };
    for (int i = 0; i < warm_rounds; ++i)
    {
        round(i);
    }
    const auto start = bench::now_ns();
    for (int i = 0; i < rounds; ++i)
    {
        round(i);
    }
    const auto ns = bench::now_ns() - start;
    const i64 stop = -1;
    ok = write_all(out, &stop, sizeof stop) && ok;
    ok = reaped_fine(pid) && ok;
    ::close(out);
    if (in != out)
    {
        ::close(in);
    }
    pin(-1);
    return {static_cast<double>(ns) / 1e3 / rounds, ok};
}

latency_result socketpair_pingpong(int rounds, const place& p)
{
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    {
        std::perror("channels: socketpair");
        std::exit(1);
    }
    return raw_pingpong(rounds, p, sv[0], sv[0], sv[1], sv[1]);
}

latency_result pipes_pingpong(int rounds, const place& p)
{
    int down[2];
    int up[2];
    if (::pipe(down) != 0 || ::pipe(up) != 0)
    {
        std::perror("channels: pipe");
        std::exit(1);
    }
    return raw_pingpong(rounds, p, down[1], up[0], down[0], up[1]);
}

// ---------------------------------------------------------------- 3. manager

// Pins every thread of process `pid` to `cpu` (-1: every CPU).
void pin_tasks(pid_t pid, int cpu)
{
    cpu_set_t set = g_all_cpus;
    if (cpu >= 0)
    {
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
    }
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& entry : std::filesystem::directory_iterator(dir))
    {
        (void)::sched_setaffinity(std::atoi(entry.path().filename().c_str()), sizeof set, &set);
    }
}

template <class Set, class Get>
latency_result pairs_us(Set set, Get get, int pairs)
{
    bool ok = true;
    for (int i = 0; i < 100; ++i)
    {
        set(i);
        ok = get(i) == i && ok;
    }
    const auto start = bench::now_ns();
    for (int i = 0; i < pairs; ++i)
    {
        set(i);
        ok = get(i) == i && ok;
    }
    return {static_cast<double>(bench::now_ns() - start) / 1e3 / pairs, ok};
}

// ---------------------------------------------------------------- results and Python

std::map<std::string, std::vector<double>> g_samples;
bool g_correct = true;

void add(const std::string& key, double value, bool ok)
{
    g_samples[key].push_back(value);
    if (!ok)
    {
        std::fprintf(stderr, "channels: %s: CHECK FAILED\n", key.c_str());
        g_correct = false;
    }
}

double med(const std::map<std::string, std::vector<double>>& m, const std::string& key)
{
    const auto it = m.find(key);
    return it == m.end() ? 0.0 : bench::median(it->second);
}

std::map<std::string, double> run_python(const std::string& command)
{
    std::map<std::string, double> rows;
    const int status = bench::run_command(
        command, bench::echo::on,
        [&](const char* line)
        {
            char key[128];
            double value = 0;
            if (std::sscanf(line, "%127s %lf", key, &value) == 2 &&
                std::strchr(key, '/') != nullptr)
            {
                rows[key] = value;
            }
            if (std::strncmp(line, "check: ", 7) == 0 && std::strstr(line, "FAILED") != nullptr)
            {
                g_correct = false;
            }
        });
    // -1: popen() failed; the Python side is then passed over, not counted as a failure.
    if (status > 0)
    {
        std::fprintf(stderr, "channels: %s failed\n", command.c_str());
        g_correct = false;
    }
    return rows;
}

double ratio(double a, double b)
{
    return b > 0 ? a / b : 0.0;
}

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const i64 n = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 5000;
    const int pairs = argc > 3 ? std::atoi(argv[3]) : 2000;
    const int repeats = argc > 4 ? std::atoi(argv[4]) : 3;
    const std::string places_arg = argc > 5 ? argv[5] : "any,same,cross";
    const std::string script = argc > 6 ? argv[6] : WEFT_CHANNELS_PY;
    const i64 py_n = argc > 7 ? std::atoll(argv[7]) : std::max<i64>(2, n / 10);
    if (n < 2 || rounds < 1 || pairs < 1 || repeats < 1 || py_n < 2)
    {
        std::fprintf(stderr, "usage: channels [N [R [M [REPEATS [PLACEMENTS [SCRIPT [PY_N]]]]]]]: "
                             "N, PY_N >= 2; R, M, REPEATS >= 1; PLACEMENTS: any,same,cross\n");
        return 2;
    }
    ::sched_getaffinity(0, sizeof g_all_cpus, &g_all_cpus);
    const int cpus = CPU_COUNT(&g_all_cpus);
    std::vector<place> places;
    for (const place& p : all_places)
    {
        if (("," + places_arg + ",").find(std::string(",") + p.name + ",") != std::string::npos &&
            (p.child_cpu < 0 || (CPU_ISSET(p.child_cpu, &g_all_cpus) &&
                                 CPU_ISSET(p.parent_cpu, &g_all_cpus) && cpus >= 2)))
        {
            places.push_back(p);
        }
    }
    std::string python_places;
    for (const place& p : places)
    {
        python_places += (python_places.empty() ? "" : ",") + std::string(p.name);
    }
    if (python_places.empty())
    {
        python_places = "none";
    }

    std::printf("channels: 2 processes (fork), %d CPUs, %d repeats, medians; queue N = %lld, "
                "ping-pong R = %d, manager M = %d (shared_value %d)\n",
                cpus, repeats, static_cast<long long>(n), rounds, pairs, pairs * 100);
    std::fflush(stdout);
    try
    {
        weft::manager m({.start_method = weft::start_method::fork});
        auto d = m.dict<i64, i64>();
        auto mv = m.value<i64>(0);
        weft::shared_value<i64> sv(0);
        d.set(0, 0); // the connection (and its server thread) exists before pinning
        for (int r = 0; r < repeats; ++r)
        {
            for (const bool text : {false, true})
            {
                const std::string kind = text ? "str100" : "int64";
                for (int s = 0; s < 3; ++s)
                {
                    switch ((s + r) % 3)
                    {
                    case 0:
                    {
                        const rate_result x = text ? weft_queue_text(n) : weft_queue_ints(n);
                        add("queue/" + kind + "/weft", x.msgs_per_s, x.ok);
                        break;
                    }
                    case 1:
                    {
                        const rate_result x = pipe_queue(n, text);
                        add("queue/" + kind + "/pipe2", x.msgs_per_s, x.ok);
                        break;
                    }
                    default:
                    {
                        const rate_result x = spsc_queue(n, text);
                        add("queue/" + kind + "/spsc", x.msgs_per_s, x.ok);
                        break;
                    }
                    }
                }
            }
            for (const place& p : places)
            {
                const std::string at = p.name;
                for (int s = 0; s < 3; ++s)
                {
                    switch ((s + r) % 3)
                    {
                    case 0:
                    {
                        const latency_result x = weft_pingpong(rounds, p);
                        add("pipe/" + at + "/weft", x.us, x.ok);
                        break;
                    }
                    case 1:
                    {
                        const latency_result x = socketpair_pingpong(rounds, p);
                        add("pipe/" + at + "/socketpair", x.us, x.ok);
                        break;
                    }
                    default:
                    {
                        const latency_result x = pipes_pingpong(rounds, p);
                        add("pipe/" + at + "/pipe2", x.us, x.ok);
                        break;
                    }
                    }
                }
            }
            for (const place& p : places)
            {
                const std::string at = p.name;
                pin_tasks(m.pid(), p.child_cpu);
                pin(p.parent_cpu);
                const latency_result x = pairs_us([&](i64 i) { d.set(i % 64, i); },
                                                  [&](i64 i) { return d.get(i % 64); }, pairs);
                add("manager/" + at + "/dict", x.us, x.ok);
                const latency_result y =
                    pairs_us([&](i64 i) { mv.set(i); }, [&](i64) { return mv.get(); }, pairs);
                add("manager/" + at + "/value", y.us, y.ok);
                pin(-1);
                pin_tasks(m.pid(), -1);
            }
            const latency_result z =
                pairs_us([&](i64 i) { sv.set(i); }, [&](i64) { return sv.get(); }, pairs * 100);
            add("shared/value/shared_value", z.us, z.ok);
        }
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "channels: threw: %s\n", e.what());
        return 1;
    }

    const auto& s = g_samples;
    std::printf("\n1. queue throughput, msgs/s (child puts, parent gets)\n");
    std::printf("%-8s %14s %14s %14s\n", "item", "weft::queue", "pipe(2) floor", "spsc floor");
    for (const char* kind : {"int64", "str100"})
    {
        const std::string k = std::string("queue/") + kind + "/";
        std::printf("%-8s %14.0f %14.0f %14.0f\n", kind, med(s, k + "weft"), med(s, k + "pipe2"),
                    med(s, k + "spsc"));
    }
    std::printf("\n2. ping-pong, us per round trip\n");
    std::printf("%-8s %14s %14s %14s\n", "place", "weft::pipe", "socketpair", "pipe(2) pair");
    for (const place& p : places)
    {
        const std::string k = std::string("pipe/") + p.name + "/";
        std::printf("%-8s %14.2f %14.2f %14.2f\n", p.name, med(s, k + "weft"),
                    med(s, k + "socketpair"), med(s, k + "pipe2"));
    }
    std::printf("\n3. us per set+get pair from the parent (manager: server pinned as the child)\n");
    std::printf("%-8s %14s %14s\n", "place", "dict<i64,i64>", "value<i64>");
    for (const place& p : places)
    {
        const std::string k = std::string("manager/") + p.name + "/";
        std::printf("%-8s %14.2f %14.2f\n", p.name, med(s, k + "dict"), med(s, k + "value"));
    }
    std::printf("shared_value<int64> %.4f us per set+get pair\n",
                med(s, "shared/value/shared_value"));
    std::printf("check: %s\n",
                g_correct ? "every item, reply and value as expected" : "CHECK FAILED");

    std::printf("\nweft / floors (same run)\n");
    for (const char* kind : {"int64", "str100"})
    {
        const std::string k = std::string("queue/") + kind + "/";
        std::printf("queue %-6s  weft/pipe(2) %6.2fx   weft/spsc %6.3fx\n", kind,
                    ratio(med(s, k + "weft"), med(s, k + "pipe2")),
                    ratio(med(s, k + "weft"), med(s, k + "spsc")));
    }
    for (const place& p : places)
    {
        const std::string k = std::string("pipe/") + p.name + "/";
        const double r = ratio(med(s, k + "weft"), med(s, k + "socketpair"));
        std::printf("ping-pong %-6s weft/socketpair %5.2fx  weft/pipe(2) %5.2fx  (target <= 1.2x "
                    "socketpair: %s)\n",
                    p.name, r, ratio(med(s, k + "weft"), med(s, k + "pipe2")),
                    r <= 1.2 ? "met" : "MISSED");
    }
    for (const place& p : places)
    {
        std::printf("manager %-6s dict pair / shared_value pair: %.0fx\n", p.name,
                    ratio(med(s, std::string("manager/") + p.name + "/dict"),
                          med(s, "shared/value/shared_value")));
    }

    if (script != "-")
    {
        const std::string command = "python3 '" + script + "' " + std::to_string(py_n) + " " +
                                    std::to_string(rounds) + " " + std::to_string(pairs) + " " +
                                    std::to_string(repeats) + " " + python_places;
        const std::map<std::string, double> py = run_python(command);
        std::printf("\nweft vs Python (same run)\n");
        for (const char* kind : {"int64", "str100"})
        {
            const std::string k = std::string("queue/") + kind + "/";
            const double r =
                ratio(med(s, k + "weft"), py.count(k + "Queue") ? py.at(k + "Queue") : 0);
            std::printf("queue %-6s  weft/Queue %7.1fx  weft/SimpleQueue %7.1fx  (target >= 20x "
                        "Queue: %s)\n",
                        kind, r,
                        ratio(med(s, k + "weft"),
                              py.count(k + "SimpleQueue") ? py.at(k + "SimpleQueue") : 0),
                        r >= 20 ? "met" : "MISSED");
        }
        for (const place& p : places)
        {
            const std::string k = std::string("pipe/") + p.name + "/";
            std::printf("ping-pong %-6s Pipe/weft %6.2fx faster\n", p.name,
                        ratio(py.count(k + "Pipe") ? py.at(k + "Pipe") : 0, med(s, k + "weft")));
        }
        auto py_at = [&](const std::string& key) { return py.count(key) ? py.at(key) : 0.0; };
        for (const place& p : places)
        {
            const std::string k = std::string("manager/") + p.name + "/";
            std::printf("manager %-6s Manager.dict/weft dict %6.2fx faster, Manager.Value/weft "
                        "value %6.2fx faster\n",
                        p.name, ratio(py_at(k + "Manager.dict"), med(s, k + "dict")),
                        ratio(py_at(k + "Manager.Value"), med(s, k + "value")));
        }
        std::printf("shared_value   mp.Value/weft %6.2fx faster\n",
                    ratio(py_at("shared/value/mp.Value"), med(s, "shared/value/shared_value")));
    }
    return g_correct ? 0 : 1;
}
