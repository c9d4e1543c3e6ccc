// queue's full/empty wake-ups between two processes, under stress: a putter and a getter pass
// numbered items through a queue of one slot (and one of a few records), so that nearly every
// put finds it full and every get finds it empty, and each side keeps falling asleep on the
// other. Each process is also interrupted every 50 µs of its CPU time by a signal handler that
// busy-waits for about one pre-sleep spin: the other side then goes to sleep while this one
// is between two steps of a put or get, where a lost wake-up hides. A lost wake-up leaves both
// sides asleep (the getter on an empty queue, the putter on a full one), so the run does not
// finish: the test watches for that with a deadline. A sleeping process uses no CPU time and
// gets no signal, so the handler never wakes a sleeper that was forgotten.
//
// The sleeper flag of 5f1c7e1 (and of the two-mutex e9f526e) hung in about 40% of 1.5 s runs
// on a loaded 2-CPU machine, so the 4 runs here catch it nearly always.
#define BOOST_TEST_MODULE queue_wakeup
#define BOOST_TEST_NO_MAIN
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <signal.h>
#include <string>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "executors/channels/detail/queue_state.hpp"

using namespace std::chrono_literals;
using weft::queue;

namespace
{

// Each run lasts this long; a run that has not ended `grace` after it hung.
constexpr auto run_for = 2000ms;
constexpr auto grace = 8s;

std::uint64_t g_state = 0;
int g_clock = -1; // the perf event that times the hiccups, or -1: SIGPROF does
constexpr std::uint64_t period_ns = 50'000;

// 15-35 µs: about the 20 µs a side spins before it sleeps, so the other side's sleep begins
// while this one is stopped, and ends (or not) near the moment this one goes on.
void hiccup(int) noexcept
{
    const int saved = errno;
    g_state ^= g_state << 13;
    g_state ^= g_state >> 7;
    g_state ^= g_state << 17;
    const std::int64_t wait_ns = 15'000 + static_cast<std::int64_t>(g_state % 20'000);
    timespec start{};
    ::clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;)
    {
        timespec now{};
        ::clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1'000'000'000 + (now.tv_nsec - start.tv_nsec) >= wait_ns)
        {
            break;
        }
    }
    if (g_clock >= 0)
    {
        ::ioctl(g_clock, PERF_EVENT_IOC_REFRESH, 1); // one more signal
    }
    errno = saved;
}

// Hiccups from now on in this process, and this process on `cpu` (-1: where it was): every
// `period` of this thread's CPU time where perf events let a process count its own (a
// software clock: precise, and silent while the thread sleeps), else every tick (SIGPROF).
void start_hiccups(std::uint64_t seed, int cpu)
{
    if (cpu >= 0)
    {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        (void)::sched_setaffinity(0, sizeof set, &set);
    }
    g_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    struct sigaction action = {};
    action.sa_handler = hiccup;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    perf_event_attr clock = {};
    clock.type = PERF_TYPE_SOFTWARE;
    clock.size = sizeof clock;
    clock.config = PERF_COUNT_SW_TASK_CLOCK;
    clock.sample_period = period_ns;
    clock.wakeup_events = 1;
    clock.disabled = 1;
    clock.exclude_kernel = 1;
    g_clock = static_cast<int>(::syscall(SYS_perf_event_open, &clock, 0, -1, -1, 0));
    if (g_clock >= 0)
    {
        ::sigaction(SIGIO, &action, nullptr);
        const f_owner_ex me{F_OWNER_TID, static_cast<pid_t>(::syscall(SYS_gettid))};
        ::fcntl(g_clock, F_SETOWN_EX, &me);
        ::fcntl(g_clock, F_SETSIG, SIGIO);
        ::fcntl(g_clock, F_SETFL, O_ASYNC);
        ::ioctl(g_clock, PERF_EVENT_IOC_REFRESH, 1);
        return;
    }
    ::sigaction(SIGPROF, &action, nullptr);
    // The kernel looks at CPU time every tick: it rounds 100 µs up to that.
    const itimerval every{{0, 100}, {0, 100}};
    ::setitimer(ITIMER_PROF, &every, nullptr);
}

void stop_hiccups()
{
    if (g_clock >= 0)
    {
        ::ioctl(g_clock, PERF_EVENT_IOC_DISABLE, 0);
        return;
    }
    const itimerval off{};
    ::setitimer(ITIMER_PROF, &off, nullptr);
}

// Puts 0, 1, 2, ... for `run_for`, then -1.
int put_numbers(queue<std::int64_t> q, std::uint64_t seed, int cpu)
{
    start_hiccups(seed, cpu);
    const auto until = std::chrono::steady_clock::now() + run_for;
    std::int64_t i = 0;
    while (std::chrono::steady_clock::now() < until)
    {
        for (int k = 0; k < 256; ++k)
        {
            q.put(i++);
        }
    }
    q.put(-1);
    stop_hiccups();
    return 0;
}

// Gets until -1; every item must be the next number. Exit code 1 for one out of order.
int get_numbers(queue<std::int64_t> q, std::uint64_t seed, int cpu)
{
    start_hiccups(seed, cpu);
    for (std::int64_t expected = 0;; ++expected)
    {
        const std::int64_t got = q.get();
        if (got == -1)
        {
            break;
        }
        if (got != expected)
        {
            return 1;
        }
    }
    stop_hiccups();
    return 0;
}

int cpus_here()
{
    cpu_set_t set;
    CPU_ZERO(&set);
    return ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

// The n-th CPU this process may run on (wrapping), for pinning the two sides.
int allowed_cpu(int n)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0)
    {
        return -1;
    }
    const int count = CPU_COUNT(&set);
    int wanted = n % count;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    {
        if (CPU_ISSET(cpu, &set) && wanted-- == 0)
        {
            return cpu;
        }
    }
    return -1;
}

// What a hung child is doing: its system call and arguments (futex: 202, the word, the op,
// the value it sleeps on), for the failure's message.
std::string doing(weft::process& child)
{
    const auto pid = child.pid();
    if (!pid)
    {
        return "?";
    }
    std::ifstream in("/proc/" + std::to_string(*pid) + "/syscall");
    std::string line;
    std::getline(in, line);
    return line;
}

// One run; false when it hung (both children are killed then).
bool run_once(weft::queue_options options, std::uint64_t seed, int putter_cpu, int getter_cpu)
{
    queue<std::int64_t> q(options);
    weft::process getter({.start_method = weft::start_method::fork}, get_numbers, q, seed,
                         getter_cpu);
    weft::process putter({.start_method = weft::start_method::fork}, put_numbers, q, seed + 1,
                         putter_cpu);
    getter.start();
    putter.start();
    const bool put_all = putter.join(run_for + grace);
    const bool got_all = getter.join(put_all ? grace : 0s);
    if (!put_all || !got_all)
    {
        BOOST_TEST_MESSAGE("hung: putter in [" << doing(putter) << "], getter in [" << doing(getter)
                                               << "]");
        putter.kill();
        getter.kill();
        putter.join();
        getter.join();
        return false;
    }
    BOOST_TEST(putter.exitcode().value_or(-99) == 0);
    BOOST_TEST(getter.exitcode().value_or(-99) == 0);
    return true;
}

} // namespace

BOOST_AUTO_TEST_SUITE(queue_wakeup)

BOOST_AUTO_TEST_CASE(a_one_slot_queue_never_leaves_both_sides_asleep)
{
    // Different CPUs (both asleep at once needs both running), then one CPU for both.
    const bool two = cpus_here() > 1;
    std::uint64_t seed = 1;
    for (const auto& [putter_cpu, getter_cpu] :
         {std::pair{allowed_cpu(0), allowed_cpu(two ? 1 : 0)}, std::pair{-1, -1},
          std::pair{allowed_cpu(0), allowed_cpu(0)}})
    {
        BOOST_TEST_CONTEXT("putter on CPU " << putter_cpu << ", getter on CPU " << getter_cpu)
        {
            BOOST_TEST(run_once({.maxsize = 1}, seed++, putter_cpu, getter_cpu),
                       "the getter and the putter were both still asleep "
                           << std::chrono::duration_cast<std::chrono::seconds>(grace).count()
                           << " s after the putter's last item: a lost wake-up");
        }
    }
}

BOOST_AUTO_TEST_CASE(a_queue_of_a_few_records_never_leaves_both_sides_asleep)
{
    // 64 bytes hold three 8-byte items (12 bytes of prefix each): full by bytes, not maxsize.
    const bool two = cpus_here() > 1;
    BOOST_TEST(
        run_once({.maxsize = 0, .buffer_bytes = 64}, 11, allowed_cpu(0), allowed_cpu(two ? 1 : 0)),
        "the getter and the putter were both asleep: a lost wake-up");
}

BOOST_AUTO_TEST_SUITE_END()

// Says in the log when the test is weaker than it was made to be: without perf events the
// hiccups come once per tick (4 ms here), not every 50 µs of CPU time; under ThreadSanitizer
// every step is slower and the windows rarer in proportion.
void say_how_strong()
{
    perf_event_attr clock = {};
    clock.type = PERF_TYPE_SOFTWARE;
    clock.size = sizeof clock;
    clock.config = PERF_COUNT_SW_TASK_CLOCK;
    clock.disabled = 1;
    clock.exclude_kernel = 1;
    const int fd = static_cast<int>(::syscall(SYS_perf_event_open, &clock, 0, -1, -1, 0));
    if (fd < 0)
    {
        std::fprintf(stderr,
                     "queue_wakeup_test: perf events refused (errno %d): hiccups every "
                     "tick (SIGPROF), far rarer than every 50 us of CPU time\n",
                     errno);
    }
    else
    {
        ::close(fd);
    }
#if defined(__SANITIZE_THREAD__)
    std::fprintf(stderr, "queue_wakeup_test: under ThreadSanitizer each step is several times "
                         "slower: the lost-wake-up windows are hit less often\n");
#endif
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    say_how_strong();
    // A lost wake-up must hang (and fail the run), not stall until the queue's periodic look
    // for a dead mutex holder wakes the sleeper.
    weft::detail::queue_state::set_dead_holder_check(std::chrono::hours(1));
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
