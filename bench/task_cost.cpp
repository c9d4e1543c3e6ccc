// task_cost: what one coroutine operation costs in weft, next to the same operation on a bare
// C++20 coroutine (bench/support/bare_task.hpp: frame, continuation, result, symmetric
// transfer, nothing else) measured in the same run. Prints ns per operation, the median of
// RUNS runs (default 5), and the ratio weft/floor.
//
//   create+await+destroy  an empty task<int> created, co_awaited and destroyed by a parent task
//                         running on the event loop (1,000,000 per run)
//   resume+suspend        a suspended task resumed by hand and suspending again on a trivial
//                         awaiter (10,000,000 per run)
//   yield, 1 task         co_await weft::yield() with nothing else ready, so every yield is one
//                         loop turn; floor: a std::deque run queue (200,000 per run)
//   yield, 1000 tasks     1000 spawned tasks yielding round-robin (1,000,000 yields per run)
//   io_uring_enter        reference row: one io_uring_submit_and_get_events on an idle raw ring,
//                         the system call a loop turn with ready tasks makes
//
// Run: build-bench/bench/task_cost [RUNS]

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <vector>
#include <weft/weft.hpp>

#include <liburing.h>

#include "bench/support/bare_task.hpp"
#include "bench/support/bench_support.hpp"

namespace
{

constexpr std::size_t create_ops = 1'000'000;
constexpr std::size_t resume_ops = 10'000'000;
constexpr std::size_t yield_one_ops = 200'000;
constexpr std::size_t yield_many_tasks = 1000;
constexpr std::size_t yield_many_per_task = 1000;
constexpr std::size_t enter_ops = 200'000;

// Keeps results alive so that the compiler cannot drop the work that produced them.
volatile std::int64_t g_sink = 0;

// ---- create + await + destroy ----

weft::task<int> weft_empty()
{
    co_return 1;
}

weft::task<double> weft_create_parent(std::size_t n)
{
    int sum = 0;
    const std::int64_t start = bench::now_ns();
    for (std::size_t i = 0; i < n; ++i)
    {
        sum += co_await weft_empty();
    }
    const std::int64_t elapsed = bench::now_ns() - start;
    g_sink = sum;
    co_return static_cast<double>(elapsed) / static_cast<double>(n);
}

bench::bare::task<int> bare_empty()
{
    co_return 1;
}

bench::bare::task<double> bare_create_parent(std::size_t n)
{
    int sum = 0;
    const std::int64_t start = bench::now_ns();
    for (std::size_t i = 0; i < n; ++i)
    {
        sum += co_await bare_empty();
    }
    const std::int64_t elapsed = bench::now_ns() - start;
    g_sink = sum;
    co_return static_cast<double>(elapsed) / static_cast<double>(n);
}

double run_bare(bench::bare::task<double> t)
{
    t.handle().resume();
    return t.handle().promise().value;
}

// ---- resume + suspend ----

std::coroutine_handle<> g_parked;

struct park
{
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const noexcept { g_parked = h; }
    void await_resume() const noexcept {}
};

// Parks `parks` times, then finishes.
weft::task<void> weft_parked(std::size_t parks)
{
    for (std::size_t i = 0; i < parks; ++i)
    {
        co_await park{};
    }
}

bench::bare::task<void> bare_parked(std::size_t parks)
{
    for (std::size_t i = 0; i < parks; ++i)
    {
        co_await park{};
    }
}

template <class Task>
double resume_cost(Task (*make)(std::size_t))
{
    Task t = make(resume_ops + 1);
    std::coroutine_handle<> h;
    if constexpr (requires { t.release(); })
    {
        h = t.release();
    }
    else
    {
        h = t.handle();
    }
    h.resume(); // runs to the first park
    const std::int64_t start = bench::now_ns();
    for (std::size_t i = 0; i < resume_ops; ++i)
    {
        g_parked.resume();
    }
    const std::int64_t elapsed = bench::now_ns() - start;
    g_parked.resume(); // past the last park: the task finishes
    if constexpr (requires { t.release(); })
    {
        h.destroy();
    }
    return static_cast<double>(elapsed) / static_cast<double>(resume_ops);
}

// ---- yield ----

weft::task<double> weft_yield_one(std::size_t n)
{
    const std::int64_t start = bench::now_ns();
    for (std::size_t i = 0; i < n; ++i)
    {
        co_await weft::yield();
    }
    co_return static_cast<double>(bench::now_ns() - start) / static_cast<double>(n);
}

weft::task<void> weft_yielder(std::size_t yields, bench::countdown& done)
{
    for (std::size_t i = 0; i < yields; ++i)
    {
        co_await weft::yield();
    }
    if (const auto waiter = done.arrive())
    {
        weft::event_loop::current()->schedule(waiter);
    }
}

weft::task<double> weft_yield_many(std::size_t tasks, std::size_t yields)
{
    auto& loop = *weft::event_loop::current();
    bench::countdown done(tasks);
    const std::int64_t start = bench::now_ns();
    for (std::size_t i = 0; i < tasks; ++i)
    {
        loop.spawn(weft_yielder(yields, done));
    }
    co_await done.wait();
    co_return static_cast<double>(bench::now_ns() - start) / static_cast<double>(tasks * yields);
}

// The floor's scheduler: a run queue and nothing else.
std::deque<std::coroutine_handle<>> g_bare_ready;

struct bare_yield
{
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const { g_bare_ready.push_back(h); }
    void await_resume() const noexcept {}
};

void bare_run_queue()
{
    while (!g_bare_ready.empty())
    {
        const std::coroutine_handle<> h = g_bare_ready.front();
        g_bare_ready.pop_front();
        h.resume();
    }
}

bench::bare::task<void> bare_yielder(std::size_t yields)
{
    for (std::size_t i = 0; i < yields; ++i)
    {
        co_await bare_yield{};
    }
}

double bare_yield_cost(std::size_t tasks, std::size_t yields)
{
    const std::int64_t start = bench::now_ns();
    std::vector<bench::bare::task<void>> owned;
    owned.reserve(tasks);
    for (std::size_t i = 0; i < tasks; ++i)
    {
        owned.push_back(bare_yielder(yields));
        g_bare_ready.push_back(owned.back().handle());
    }
    bare_run_queue();
    owned.clear();
    return static_cast<double>(bench::now_ns() - start) / static_cast<double>(tasks * yields);
}

// ---- io_uring_enter reference ----

double io_uring_enter_cost()
{
    io_uring ring{};
    if (io_uring_queue_init(64, &ring, 0) < 0)
    {
        return 0.0;
    }
    const std::int64_t start = bench::now_ns();
    for (std::size_t i = 0; i < enter_ops; ++i)
    {
        io_uring_submit_and_get_events(&ring);
    }
    const std::int64_t elapsed = bench::now_ns() - start;
    io_uring_queue_exit(&ring);
    return static_cast<double>(elapsed) / static_cast<double>(enter_ops);
}

struct row
{
    const char* name;
    std::function<double()> weft;
    std::function<double()> floor;
};

} // namespace

int main(int argc, char** argv)
{
#if !defined(__OPTIMIZE__)
    // Unoptimised (and ASan) builds do not turn symmetric transfer into tail calls: a million
    // synchronous awaits in one loop would overflow the stack, and the numbers would mean
    // nothing anyway.
    std::fprintf(stderr, "task_cost: needs an optimised build (meson --buildtype=release)\n");
    return 2;
#endif
    const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
    if (runs < 1)
    {
        std::fprintf(stderr, "usage: %s [RUNS]\n", argv[0]);
        return 2;
    }
    weft::event_loop loop;

    const std::vector<row> rows = {
        {"create+await+destroy task<int>", [&] { return loop.run(weft_create_parent(create_ops)); },
         [] { return run_bare(bare_create_parent(create_ops)); }},
        {"resume+suspend (manual awaiter)", [] { return resume_cost(&weft_parked); },
         [] { return resume_cost(&bare_parked); }},
        {"yield, 1 task (one loop turn)", [&] { return loop.run(weft_yield_one(yield_one_ops)); },
         [] { return bare_yield_cost(1, yield_one_ops); }},
        {"yield, 1000 tasks (per yield)",
         [&] { return loop.run(weft_yield_many(yield_many_tasks, yield_many_per_task)); },
         [] { return bare_yield_cost(yield_many_tasks, yield_many_per_task); }},
    };

    std::printf("task_cost: ns per operation, median of %d runs, weft vs bare C++20 coroutine "
                "floor in the same run\n\n",
                runs);
    std::printf("%-34s %12s %12s %10s\n", "operation", "weft ns", "floor ns", "weft/floor");
    for (const row& r : rows)
    {
        std::vector<double> weft_ns;
        std::vector<double> floor_ns;
        for (int i = 0; i < runs; ++i)
        {
            // Alternate the order so that drift in this noisy VM hits both sides alike.
            if (i % 2 == 0)
            {
                floor_ns.push_back(r.floor());
                weft_ns.push_back(r.weft());
            }
            else
            {
                weft_ns.push_back(r.weft());
                floor_ns.push_back(r.floor());
            }
        }
        const double w = bench::median(weft_ns);
        const double f = bench::median(floor_ns);
        std::printf("%-34s %12.1f %12.1f %10.2f\n", r.name, w, f, w / f);
    }
    std::vector<double> enter_ns;
    for (int i = 0; i < runs; ++i)
    {
        enter_ns.push_back(io_uring_enter_cost());
    }
    std::printf("%-34s %12s %12.1f %10s\n", "reference: one io_uring_enter", "-",
                bench::median(enter_ns), "-");
    return 0;
}
