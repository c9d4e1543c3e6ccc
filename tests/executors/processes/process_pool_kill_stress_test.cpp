// SIGKILLs at random moments of a pool's life: while a worker starts, runs its initializer,
// runs a task, writes a large result or idles. Nothing hangs and nothing is lost: every future
// ends with its own value, a worker_died_error, or (when kills land three times in a row before
// a worker ran anything) the broken-pool error; shutdown returns; no zombie is left. About a
// thousand kills over the three start methods.
#define BOOST_TEST_MODULE process_pool_kill_stress
#define BOOST_TEST_NO_MAIN
#include <atomic>
#include <chrono>
#include <random>
#include <signal.h>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/process_pool_tests.hpp"

using weft::test::zombie_children;

namespace
{

constexpr int kills_per_method = 334;
constexpr auto time_per_method = 20s;
constexpr int big = 64 * 1024; // ints: a 256 KiB result, written over several ring laps

void slow_init(int us)
{
    std::this_thread::sleep_for(std::chrono::microseconds(us));
}

int nap(int us)
{
    std::this_thread::sleep_for(std::chrono::microseconds(us));
    return us;
}

std::vector<int> filled(int n)
{
    return std::vector<int>(static_cast<std::size_t>(n), n);
}

struct tally
{
    int values = 0;
    int died = 0;
    int broken = 0;
};

// Waits for `f` and counts how it ended; fails the test on a wrong value or any other error.
template <class T, class Check>
void count_outcome(future<T>& f, tally& counts, Check check)
{
    try
    {
        BOOST_TEST(check(f.result(patience)));
        ++counts.values;
    }
    catch (const weft::worker_died_error&)
    {
        ++counts.died;
    }
    catch (const weft::broken_executor_error&)
    {
        ++counts.broken;
    }
}

// Kills a random worker of `pool` every 0 to 2 * `gap` until told to stop.
class killer
{
  public:
    killer(process_pool_executor& pool, std::atomic<int>& kills, std::chrono::microseconds gap)
        : m_thread(
              [this, &pool, &kills, gap]
              {
                  std::mt19937 random(static_cast<unsigned>(::getpid()));
                  while (!m_stop.load())
                  {
                      const std::vector<pid_t> pids = pool.worker_pids();
                      if (!pids.empty() && ::kill(pids[random() % pids.size()], SIGKILL) == 0)
                      {
                          kills.fetch_add(1);
                      }
                      std::this_thread::sleep_for(std::chrono::microseconds(
                          random() % static_cast<unsigned>(2 * gap.count())));
                  }
              })
    {
    }
    killer(const killer&) = delete;
    killer& operator=(const killer&) = delete;
    ~killer()
    {
        m_stop.store(true);
        m_thread.join();
    }

  private:
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// One pool under fire: 300 calls of three kinds, each checked; a pool that broke refuses the
// rest of the round's calls. Returns whether it broke.
bool one_round(start_method method, std::atomic<int>& kills, std::chrono::microseconds gap,
               tally& counts)
{
    const int broken_before = counts.broken;
    process_pool_executor pool({.max_workers = 2,
                                .start_method = method,
                                .initializer = weft::worker_initializer(slow_init, 500),
                                .max_tasks_per_child = 40});
    std::vector<future<int>> small;
    std::vector<future<std::vector<int>>> large;
    {
        const killer shooting(pool, kills, gap);
        try
        {
            for (int i = 0; i < 100; ++i)
            {
                small.push_back(pool.submit(square, i));
                small.push_back(pool.submit(nap, 300));
                large.push_back(pool.submit(filled, big));
            }
        }
        catch (const weft::broken_executor_error&)
        {
            ++counts.broken; // refused at submit: every earlier future still ends
        }
        for (std::size_t i = 0; i < small.size(); ++i)
        {
            const int expected = i % 2 == 0 ? static_cast<int>((i / 2) * (i / 2)) : 300;
            count_outcome(small[i], counts, [expected](int v) { return v == expected; });
        }
        for (auto& f : large)
        {
            count_outcome(f, counts,
                          [](const std::vector<int>& v)
                          { return v.size() == static_cast<std::size_t>(big) && v.back() == big; });
        }
    }
    const auto started = std::chrono::steady_clock::now();
    pool.shutdown(true);
    BOOST_TEST((std::chrono::steady_clock::now() - started < patience));
    BOOST_TEST(zombie_children() == 0);
    return counts.broken != broken_before;
}

} // namespace

BOOST_AUTO_TEST_CASE(random_kills_at_every_step_lose_nothing_and_hang_nothing)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            std::atomic<int> kills{0};
            tally counts;
            int rounds = 0;
            // Kills every 2 ms on average, or less often while they break every pool: a spawned
            // worker of a sanitizer build takes far longer than 2 ms to start.
            std::chrono::microseconds gap = 2ms;
            const auto until = std::chrono::steady_clock::now() + time_per_method;
            while (kills.load() < kills_per_method && std::chrono::steady_clock::now() < until)
            {
                if (one_round(method, kills, gap, counts) && gap < 256ms)
                {
                    gap *= 2;
                }
                ++rounds;
            }
            BOOST_TEST_MESSAGE(weft::to_string(method)
                               << ": " << kills.load() << " kills over " << rounds
                               << " pools; outcomes: " << counts.values << " values, "
                               << counts.died << " worker_died_error, " << counts.broken
                               << " broken pool; last gap " << gap.count() << " us");
            BOOST_TEST(kills.load() >= 50);
            BOOST_TEST(counts.died > 0);
            BOOST_TEST(counts.values > 0);
        }
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
