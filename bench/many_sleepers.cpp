// many_sleepers: 1,000,000 concurrent tasks, each doing co_await weft::sleep_for(d) with d drawn
// uniformly from [0, 1 s) (the same seeded sequence on both sides). Reports wall time from the
// first spawn to the last task finishing, the time until every task has started sleeping, and
// the peak RSS growth divided by the task count (bytes per task; target <= 256). Also counts the
// bytes requested from operator new per task, which shows what the frames weigh before malloc's
// own overhead.
//
// Floor, measured in the same run: bare C++20 coroutines (bench/support/bare_task.hpp) sleeping
// on a std::vector min-heap of (deadline, handle), driven by clock_nanosleep to the earliest
// deadline. Each side runs ROUNDS times (default 3), interleaved, each in a fresh forked child
// so that each has its own peak RSS; medians are printed.
//
// Run: build-bench/bench/many_sleepers [TASKS [ROUNDS]]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <new>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

#include "bench/support/bare_task.hpp"
#include "bench/support/bench_support.hpp"

// ---- allocation counting: every operator new in the process goes through here ----
// Kept out of line: inlined into callers, g++ 12 at -O2 flags the free() as not matching the
// operator new it can see (-Wmismatched-new-delete), although both are these replacements.

namespace
{
std::atomic<std::int64_t> g_new_bytes{0};
std::atomic<std::int64_t> g_new_calls{0};
} // namespace

[[gnu::noinline]] void* operator new(std::size_t size)
{
    g_new_bytes.fetch_add(static_cast<std::int64_t>(size), std::memory_order_relaxed);
    g_new_calls.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size))
    {
        return p;
    }
    throw std::bad_alloc();
}

[[gnu::noinline]] void operator delete(void* p) noexcept
{
    std::free(p);
}

[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept
{
    std::free(p);
}

namespace
{

using std::chrono::nanoseconds;

struct result
{
    double wall_s;
    double started_s;
    double rss_bytes_per_task;
    double new_bytes_per_task;
    double new_calls_per_task;
};

// splitmix64: a fixed, cheap sequence so both sides sleep exactly the same durations.
std::uint64_t next_random(std::uint64_t& state) noexcept
{
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

nanoseconds random_delay(std::uint64_t& state) noexcept
{
    return nanoseconds(static_cast<std::int64_t>(next_random(state) % 1'000'000'000ULL));
}

// State every sleeper reaches through one pointer, so that frames carry a single reference.
struct shared_state
{
    std::size_t tasks;
    std::size_t started = 0;
    std::int64_t all_started_at = 0;
    bench::countdown done;

    explicit shared_state(std::size_t n) : tasks(n), done(n) {}

    void note_started() noexcept
    {
        if (++started == tasks)
        {
            all_started_at = bench::now_ns();
        }
    }
};

// ---- weft ----

weft::task<void> weft_sleeper(nanoseconds delay, shared_state& state)
{
    state.note_started();
    co_await weft::sleep_for(delay);
    if (const auto waiter = state.done.arrive())
    {
        weft::event_loop::current()->schedule(waiter);
    }
}

weft::task<void> weft_root(shared_state& state)
{
    auto& loop = *weft::event_loop::current();
    std::uint64_t seed = 42;
    for (std::size_t i = 0; i < state.tasks; ++i)
    {
        loop.spawn(weft_sleeper(random_delay(seed), state));
    }
    co_await state.done.wait();
}

result run_weft(std::size_t tasks)
{
    weft::event_loop loop;
    shared_state state(tasks);
    const std::int64_t rss_before = bench::peak_rss_bytes();
    const std::int64_t bytes_before = g_new_bytes.load();
    const std::int64_t calls_before = g_new_calls.load();
    const std::int64_t start = bench::now_ns();
    loop.run(weft_root(state));
    const std::int64_t end = bench::now_ns();
    const auto n = static_cast<double>(tasks);
    return {static_cast<double>(end - start) / 1e9,
            static_cast<double>(state.all_started_at - start) / 1e9,
            static_cast<double>(bench::peak_rss_bytes() - rss_before) / n,
            static_cast<double>(g_new_bytes.load() - bytes_before) / n,
            static_cast<double>(g_new_calls.load() - calls_before) / n};
}

// ---- floor ----

using clock_type = std::chrono::steady_clock;

struct bare_timer
{
    clock_type::time_point deadline;
    std::coroutine_handle<> waiter;
    bool operator>(const bare_timer& other) const noexcept { return deadline > other.deadline; }
};

std::vector<bare_timer> g_heap;

struct bare_sleep
{
    nanoseconds delay;
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const
    {
        g_heap.push_back({clock_type::now() + delay, h});
        std::push_heap(g_heap.begin(), g_heap.end(), std::greater<>{});
    }
    void await_resume() const noexcept {}
};

bench::bare::task<void> bare_sleeper(nanoseconds delay, shared_state& state)
{
    state.note_started();
    co_await bare_sleep{delay};
    static_cast<void>(state.done.arrive());
}

result run_floor(std::size_t tasks)
{
    shared_state state(tasks);
    const std::int64_t rss_before = bench::peak_rss_bytes();
    const std::int64_t bytes_before = g_new_bytes.load();
    const std::int64_t calls_before = g_new_calls.load();
    const std::int64_t start = bench::now_ns();
    std::vector<bench::bare::task<void>> owned;
    owned.reserve(tasks);
    std::uint64_t seed = 42;
    for (std::size_t i = 0; i < tasks; ++i)
    {
        owned.push_back(bare_sleeper(random_delay(seed), state));
    }
    for (auto& t : owned)
    {
        t.handle().resume();
    }
    while (!g_heap.empty())
    {
        const auto deadline = g_heap.front().deadline;
        timespec ts{};
        const auto ns = std::chrono::duration_cast<nanoseconds>(deadline.time_since_epoch());
        ts.tv_sec = static_cast<time_t>(ns.count() / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(ns.count() % 1'000'000'000);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
        const auto now = clock_type::now();
        while (!g_heap.empty() && g_heap.front().deadline <= now)
        {
            std::pop_heap(g_heap.begin(), g_heap.end(), std::greater<>{});
            const std::coroutine_handle<> h = g_heap.back().waiter;
            g_heap.pop_back();
            h.resume();
        }
    }
    const std::int64_t end = bench::now_ns();
    const auto n = static_cast<double>(tasks);
    return {static_cast<double>(end - start) / 1e9,
            static_cast<double>(state.all_started_at - start) / 1e9,
            static_cast<double>(bench::peak_rss_bytes() - rss_before) / n,
            static_cast<double>(g_new_bytes.load() - bytes_before) / n,
            static_cast<double>(g_new_calls.load() - calls_before) / n};
}

} // namespace

int main(int argc, char** argv)
{
    const long tasks_arg = argc > 1 ? std::atol(argv[1]) : 1'000'000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    if (tasks_arg < 1 || rounds < 1)
    {
        std::fprintf(stderr, "usage: %s [TASKS [ROUNDS]]\n", argv[0]);
        return 2;
    }
    const auto tasks = static_cast<std::size_t>(tasks_arg);

    std::vector<result> weft_results;
    std::vector<result> floor_results;
    for (int i = 0; i < rounds; ++i)
    {
        // Alternate the order so that drift in this noisy VM hits both sides alike.
        if (i % 2 == 0)
        {
            floor_results.push_back(bench::run_in_child<result>([&] { return run_floor(tasks); }));
            weft_results.push_back(bench::run_in_child<result>([&] { return run_weft(tasks); }));
        }
        else
        {
            weft_results.push_back(bench::run_in_child<result>([&] { return run_weft(tasks); }));
            floor_results.push_back(bench::run_in_child<result>([&] { return run_floor(tasks); }));
        }
    }

    const auto med = [](const std::vector<result>& rs, double result::*field)
    {
        std::vector<double> values;
        for (const result& r : rs)
        {
            values.push_back(r.*field);
        }
        return bench::median(values);
    };

    std::printf("many_sleepers: %zu tasks, each sleep_for(uniform 0..1 s); median of %d rounds "
                "per side, interleaved, each in a fresh child process\n\n",
                tasks, rounds);
    std::printf("%-34s %12s %12s %10s\n", "", "weft", "floor", "weft/floor");
    const struct
    {
        const char* name;
        double result::*field;
        const char* format;
    } lines[] = {
        {"wall time, s", &result::wall_s, "%-34s %12.3f %12.3f %10.2f\n"},
        {"until all sleeping, s", &result::started_s, "%-34s %12.3f %12.3f %10.2f\n"},
        {"peak RSS growth per task, bytes", &result::rss_bytes_per_task,
         "%-34s %12.1f %12.1f %10.2f\n"},
        {"operator new bytes per task", &result::new_bytes_per_task,
         "%-34s %12.1f %12.1f %10.2f\n"},
        {"operator new calls per task", &result::new_calls_per_task,
         "%-34s %12.2f %12.2f %10.2f\n"},
    };
    for (const auto& line : lines)
    {
        const double w = med(weft_results, line.field);
        const double f = med(floor_results, line.field);
        std::printf(line.format, line.name, w, f, w / f);
    }
    const double weft_rss = med(weft_results, &result::rss_bytes_per_task);
    std::printf("\ntarget: <= 256 bytes per task: %s (%.1f)\n",
                weft_rss <= 256.0 ? "met" : "MISSED", weft_rss);
    return 0;
}
