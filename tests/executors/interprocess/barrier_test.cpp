// interprocess::barrier: Python's multiprocessing.Barrier. Five processes and the parent get
// distinct indices round after round and the action runs once per round before anyone leaves
// (every start method); a timeout breaks it; abort and reset; n_waiting; parties < 1.
//
// The action is a plain void(*)() that travels by its address in the executable, so it reaches
// shared memory only through a global of the process it runs in: every party stores the shared
// counter in `g_actions` before it waits, and the action increments it there.
#define BOOST_TEST_MODULE interprocess_barrier
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../processes/pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::shared_array;
using weft::shared_value;
using weft::start_method;
using weft::interprocess::barrier;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

constexpr int parties = 6; // five children and the parent
constexpr int rounds = 20;

// How many times the action ran, reached by the action through this process's global.
std::optional<shared_value<int>> g_actions;

void count_action()
{
    auto held = g_actions->get_lock().guard();
    g_actions->raw() += 1;
}

// One party: `rounds` waits; records its index per round at indices[round * parties + slot],
// and in late[...] 1 when it left a round before the action of that round had run.
void party(barrier b, shared_value<int> actions, shared_array<int> indices, shared_array<int> late,
           int slot)
{
    g_actions.emplace(actions);
    for (int r = 0; r < rounds; ++r)
    {
        const std::size_t index = b.wait(patience);
        const auto at = static_cast<std::size_t>(r * parties + slot);
        indices.set(at, static_cast<int>(index));
        late.set(at, actions.get() < r + 1 ? 1 : 0);
    }
}

// Waits once; reports 1 when the wait threw broken_barrier_error, else the index + 10.
void wait_once(barrier b, shared_value<int> outcome)
{
    try
    {
        outcome.set(10 + static_cast<int>(b.wait(patience)));
    }
    catch (const weft::broken_barrier_error&)
    {
        outcome.set(1);
    }
}

template <class Ready>
bool eventually(Ready ready)
{
    const auto until = std::chrono::steady_clock::now() + patience;
    while (!ready())
    {
        if (std::chrono::steady_clock::now() >= until)
        {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

} // namespace

BOOST_AUTO_TEST_CASE(five_processes_and_the_parent_get_distinct_indices_and_one_action_a_round)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT("start method " << static_cast<int>(method))
        {
            barrier b(parties, count_action);
            BOOST_TEST(b.parties() == static_cast<std::size_t>(parties));
            shared_value<int> actions(0);
            shared_array<int> indices(static_cast<std::size_t>(rounds * parties));
            shared_array<int> late(static_cast<std::size_t>(rounds * parties));
            std::ranges::fill(indices.span(), -1);
            std::vector<weft::process> children;
            for (int slot = 0; slot < parties - 1; ++slot)
            {
                children.emplace_back(weft::process::options{.start_method = method}, party, b,
                                      actions, indices, late, slot);
                children.back().start();
            }
            party(b, actions, indices, late, parties - 1);
            for (auto& child : children)
            {
                BOOST_REQUIRE(child.join(patience));
                BOOST_TEST(child.exitcode().value_or(-99) == 0);
            }
            BOOST_TEST(actions.get() == rounds); // once per round, whoever arrived last
            for (int r = 0; r < rounds; ++r)
            {
                std::vector<int> round(indices.begin() + r * parties,
                                       indices.begin() + (r + 1) * parties);
                std::ranges::sort(round);
                std::vector<int> expected(parties);
                for (int i = 0; i < parties; ++i)
                {
                    expected[static_cast<std::size_t>(i)] = i;
                }
                BOOST_TEST(round == expected, boost::test_tools::per_element());
            }
            BOOST_TEST(std::ranges::count(late.span(), 1) == 0); // the action ran before release
            BOOST_TEST(b.n_waiting() == 0U);
            BOOST_TEST(!b.broken());
            g_actions.reset();
        }
    }
}

BOOST_AUTO_TEST_CASE(a_timeout_breaks_it_for_every_waiter)
{
    barrier b(3);
    shared_value<int> outcome(-1);
    weft::process child({.start_method = start_method::spawn}, wait_once, b, outcome);
    child.start();
    BOOST_REQUIRE(eventually([&] { return b.n_waiting() == 1U; }));
    const auto start = std::chrono::steady_clock::now();
    BOOST_CHECK_THROW((void)b.wait(50ms), weft::broken_barrier_error);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 50ms));
    BOOST_REQUIRE(child.join(patience));
    BOOST_TEST(outcome.get() == 1); // the child's wait broke too
    BOOST_TEST(b.broken());
    BOOST_CHECK_THROW((void)b.wait(patience), weft::broken_barrier_error); // stays broken
    b.reset();
    BOOST_TEST(!b.broken());

    // the default timeout applies to wait() without one
    barrier defaulted(2, nullptr, 50ms);
    BOOST_CHECK_THROW((void)defaulted.wait(), weft::broken_barrier_error);
    BOOST_TEST(defaulted.broken());
}

BOOST_AUTO_TEST_CASE(abort_and_reset)
{
    barrier b(2);
    shared_value<int> outcome(-1);
    {
        weft::process child({.start_method = start_method::forkserver}, wait_once, b, outcome);
        child.start();
        BOOST_REQUIRE(eventually([&] { return b.n_waiting() == 1U; }));
        b.abort();
        BOOST_REQUIRE(child.join(patience));
        BOOST_TEST(outcome.get() == 1); // a waiter inside is released, broken
    }
    BOOST_TEST(b.broken());
    BOOST_CHECK_THROW((void)b.wait(patience), weft::broken_barrier_error); // later ones too
    b.reset();
    BOOST_TEST(!b.broken());
    {
        // usable again after reset
        outcome.set(-1);
        weft::process child({.start_method = start_method::forkserver}, wait_once, b, outcome);
        child.start();
        const std::size_t mine = b.wait(patience);
        BOOST_REQUIRE(child.join(patience));
        BOOST_TEST(outcome.get() >= 10);
        BOOST_TEST(mine + static_cast<std::size_t>(outcome.get() - 10) == 1U); // indices 0 and 1
    }
    {
        // reset with a waiter inside: it gets broken_barrier_error, the barrier is not broken
        outcome.set(-1);
        weft::process child({.start_method = start_method::forkserver}, wait_once, b, outcome);
        child.start();
        BOOST_REQUIRE(eventually([&] { return b.n_waiting() == 1U; }));
        b.reset();
        BOOST_REQUIRE(child.join(patience));
        BOOST_TEST(outcome.get() == 1);
        BOOST_TEST(!b.broken());
    }
}

BOOST_AUTO_TEST_CASE(n_waiting_counts_the_waiting_processes)
{
    barrier b(3);
    BOOST_TEST(b.n_waiting() == 0U);
    shared_value<int> first(-1);
    shared_value<int> second(-1);
    weft::process a({.start_method = start_method::fork}, wait_once, b, first);
    a.start();
    BOOST_REQUIRE(eventually([&] { return b.n_waiting() == 1U; }));
    weft::process c({.start_method = start_method::fork}, wait_once, b, second);
    c.start();
    BOOST_REQUIRE(eventually([&] { return b.n_waiting() == 2U; }));
    BOOST_TEST(b.wait(patience) == 2U); // the last to arrive
    BOOST_REQUIRE(a.join(patience));
    BOOST_REQUIRE(c.join(patience));
    BOOST_TEST(first.get() == 10); // arrived first: index 0
    BOOST_TEST(second.get() == 11);
    BOOST_TEST(b.n_waiting() == 0U);
}

BOOST_AUTO_TEST_CASE(parties_below_one_throws)
{
    BOOST_CHECK_THROW((void)barrier(0), std::invalid_argument);
    BOOST_CHECK_THROW((void)barrier(-1), std::invalid_argument);
    barrier one(1);
    BOOST_TEST(one.wait(0s) == 0U); // a single party passes at once
    BOOST_TEST(one.parties() == 1U);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
