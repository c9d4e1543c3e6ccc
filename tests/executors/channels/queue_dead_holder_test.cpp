// The queue after a process dies holding one side's mutex at a chosen store: the other side,
// asleep without anyone else to take that mutex, wakes and finds the queue consistent. A
// random SIGKILL (queue_test) hits these windows only by chance; here a forked child makes the
// stores of a put or a get itself (queue_state_probe) and exits holding the mutex.
#define BOOST_TEST_MODULE queue_dead_holder
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "executors/channels/detail/queue_codec.hpp"
#include "executors/channels/detail/queue_state.hpp"
#include "runtime/uring/futex_wait_operation.hpp"

using namespace std::chrono_literals;
using weft::detail::queue_state;
using clock_type = queue_state::clock;

namespace weft::detail
{

// Makes the stores of try_put / try_get and stops where told, holding the side's mutex; the
// caller (a forked child) then exits, and the kernel marks the mutex's holder dead.
struct queue_state_probe
{
    static constexpr std::uint64_t length_prefix = sizeof(std::uint32_t) + sizeof(std::uint64_t);

    // A put that published (position and count) and died before its wake-up.
    static void put_without_waking(queue_state& state, const std::string& message)
    {
        (void)state.m_put_mutex.acquire(std::nullopt);
        const std::uint64_t tail = state.m_tail.load();
        const std::uint64_t puts = state.m_puts.load();
        const auto length = static_cast<std::uint32_t>(message.size());
        const std::uint64_t ticket = 0;
        std::byte prefix[length_prefix];
        std::memcpy(prefix, &length, sizeof length);
        std::memcpy(prefix + sizeof length, &ticket, sizeof ticket);
        const std::uint64_t at = state.copy_in(tail % state.m_capacity, prefix, length_prefix);
        (void)state.copy_in(at, message.data(), message.size());
        const std::uint64_t bytes = length_prefix + message.size();
        state.m_put_journal.record(tail + bytes, puts + 1);
        state.m_puts.store(puts + 1);
        state.m_tail.store(tail + bytes);
        state.m_put_journal.clear();
    }

    // A put that stored its count and died before storing its position.
    static void put_count_only(queue_state& state, std::uint64_t bytes)
    {
        (void)state.m_put_mutex.acquire(std::nullopt);
        const std::uint64_t tail = state.m_tail.load();
        const std::uint64_t puts = state.m_puts.load();
        state.m_put_journal.record(tail + bytes, puts + 1);
        state.m_puts.store(puts + 1);
    }

    // Whether the put or get mutex still carries the kernel's mark of a holder that died.
    static bool put_holder_dead(const queue_state& state)
    {
        return (state.m_put_mutex.futex_word().load() & FUTEX_OWNER_DIED) != 0;
    }
    static bool get_holder_dead(const queue_state& state)
    {
        return (state.m_get_mutex.futex_word().load() & FUTEX_OWNER_DIED) != 0;
    }

    // A get that took the oldest item (position and count) and died before its wake-up.
    static void get_without_waking(queue_state& state)
    {
        (void)state.m_get_mutex.acquire(std::nullopt);
        const std::uint64_t head = state.m_head.load();
        const std::uint64_t gets = state.m_gets.load();
        std::uint32_t length = 0;
        (void)state.copy_out(head % state.m_capacity, &length, sizeof length);
        const std::uint64_t next = head + length_prefix + length;
        state.m_get_journal.record(next, gets + 1);
        state.m_head.store(next);
        state.m_gets.store(gets + 1);
        state.m_get_journal.clear();
    }
};

} // namespace weft::detail

namespace
{

using weft::detail::queue_state_probe;

constexpr std::uint64_t ring_bytes = 4096;
// Far above queue_state::dead_holder_check: a waiter that needs the deadline to see the item
// was not repaired by the check.
constexpr auto waited_too_long = 2s;
constexpr auto give_up = 6s;

// A queue_state in anonymous shared memory, as a queue's segment (forked children share it).
class shared_state
{
  public:
    explicit shared_state(std::uint64_t maxsize)
        : m_bytes(sizeof(queue_state) + ring_bytes),
          m_memory(
              ::mmap(nullptr, m_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0))
    {
        BOOST_TEST_REQUIRE(m_memory != MAP_FAILED);
        m_state = new (m_memory) queue_state(ring_bytes, maxsize);
    }
    shared_state(const shared_state&) = delete;
    shared_state& operator=(const shared_state&) = delete;
    ~shared_state() { ::munmap(m_memory, m_bytes); }

    queue_state& operator*() noexcept { return *m_state; }
    queue_state* operator->() noexcept { return m_state; }

  private:
    std::size_t m_bytes;
    void* m_memory;
    queue_state* m_state = nullptr;
};

// Runs `dies` in a forked child that then exits holding whatever mutex it took. True when the
// child exited normally. No Boost.Test macro here: a test's other thread calls it too, and the
// framework is not thread-safe.
template <class Dies>
bool child_died_holding(Dies dies)
{
    const pid_t child = ::fork();
    if (child < 0)
    {
        return false;
    }
    if (child == 0)
    {
        dies();
        ::_exit(0);
    }
    int status = 0;
    return ::waitpid(child, &status, 0) == child && WIFEXITED(status);
}

template <class Dies>
void in_a_child_that_dies(Dies dies)
{
    BOOST_TEST_REQUIRE(child_died_holding(dies));
}

// Whether somebody came to sleep on `word` (its sleeper bit up) within give_up. Thread-safe
// as child_died_holding.
bool a_sleeper_came(const std::atomic<std::uint32_t>& word)
{
    const auto until = clock_type::now() + give_up;
    while ((word.load() & queue_state::sleeper_bit) == 0 && clock_type::now() < until)
    {
        std::this_thread::sleep_for(1ms);
    }
    return (word.load() & queue_state::sleeper_bit) != 0;
}

void wait_for_a_sleeper(const std::atomic<std::uint32_t>& word)
{
    BOOST_TEST_REQUIRE(a_sleeper_came(word));
}

} // namespace

BOOST_AUTO_TEST_SUITE(queue_dead_holder)

BOOST_AUTO_TEST_CASE(a_getter_without_a_deadline_wakes_when_the_putter_died_before_waking_it)
{
    shared_state state(0);
    std::string got;
    bool ok = false;
    clock_type::duration waited{};
    std::thread getter(
        [&]
        {
            const auto start = clock_type::now();
            ok = state->get(got, start + give_up); // stands for "forever": the test ends
            waited = clock_type::now() - start;
        });
    wait_for_a_sleeper(state->items_word());
    in_a_child_that_dies([&] { queue_state_probe::put_without_waking(*state, "published"); });
    BOOST_TEST(queue_state_probe::put_holder_dead(*state));
    getter.join();
    BOOST_TEST(!queue_state_probe::put_holder_dead(*state)); // the getter took it over
    BOOST_TEST(ok);
    BOOST_TEST(got == "published");
    BOOST_TEST(std::chrono::duration<double>(waited).count() <
               std::chrono::duration<double>(waited_too_long).count());
    BOOST_TEST(state->size() == 0U);
}

BOOST_AUTO_TEST_CASE(a_putter_on_a_full_queue_wakes_when_the_getter_died_before_waking_it)
{
    shared_state state(1);
    std::uint32_t seen = 0;
    BOOST_TEST_REQUIRE(state->try_put("first", seen));
    bool ok = false;
    clock_type::duration waited{};
    std::thread putter(
        [&]
        {
            const auto start = clock_type::now();
            ok = state->put("second", start + give_up);
            waited = clock_type::now() - start;
        });
    wait_for_a_sleeper(state->room_word());
    in_a_child_that_dies([&] { queue_state_probe::get_without_waking(*state); });
    BOOST_TEST(queue_state_probe::get_holder_dead(*state));
    putter.join();
    BOOST_TEST(!queue_state_probe::get_holder_dead(*state));
    BOOST_TEST(ok);
    BOOST_TEST(std::chrono::duration<double>(waited).count() <
               std::chrono::duration<double>(waited_too_long).count());
    // "first" went with the dead getter; "second" is the one item left.
    BOOST_TEST(state->size() == 1U);
    std::string got;
    BOOST_TEST(state->get(got, clock_type::now()));
    BOOST_TEST(got == "second");
}

BOOST_AUTO_TEST_CASE(a_putter_that_died_between_its_count_and_its_position_is_not_counted)
{
    shared_state state(0);
    in_a_child_that_dies([&] { queue_state_probe::put_count_only(*state, 32); });
    BOOST_TEST(queue_state_probe::put_holder_dead(*state));
    // join() waits for every item put to be done: the dead put's count must not hold it.
    const auto start = clock_type::now();
    BOOST_TEST(state->join(start + give_up));
    BOOST_TEST(!queue_state_probe::put_holder_dead(*state));
    BOOST_TEST(std::chrono::duration<double>(clock_type::now() - start).count() <
               std::chrono::duration<double>(waited_too_long).count());
    BOOST_TEST(state->size() == 0U);
    // And the queue goes on: a put and a get, counted once.
    std::uint32_t seen = 0;
    BOOST_TEST(state->try_put("after", seen));
    BOOST_TEST(state->size() == 1U);
    std::string got;
    BOOST_TEST(state->get(got, clock_type::now()));
    BOOST_TEST(got == "after");
    BOOST_TEST(state->size() == 0U);
}

BOOST_AUTO_TEST_CASE(qsize_is_right_at_once_after_a_putter_died_between_its_stores)
{
    shared_state state(0);
    std::uint32_t seen = 0;
    BOOST_TEST_REQUIRE(state->try_put("kept", seen));
    in_a_child_that_dies([&] { queue_state_probe::put_count_only(*state, 32); });
    BOOST_TEST(state->size() == 1U);
}

BOOST_AUTO_TEST_CASE(an_awaiting_getter_wakes_when_the_putter_died_before_waking_it)
{
    shared_state state(0);
    weft::event_loop loop;
    auto getter = [&]() -> weft::task<std::string>
    {
        std::string got;
        for (;;)
        {
            std::uint32_t seen = 0;
            if (state->try_get(got, seen))
            {
                co_return got;
            }
            co_await weft::detail::wait_for_items(*state, seen);
        }
    };
    auto body = [&]() -> weft::task<std::string>
    { co_return co_await weft::with_timeout(give_up, getter()); };
    bool slept = true;
    bool died = false;
    std::thread killer(
        [&]
        {
            if (weft::uring::futex_wait_supported())
            {
                slept = a_sleeper_came(state->items_word());
            }
            else
            {
                std::this_thread::sleep_for(50ms); // the getter retries every millisecond
            }
            died =
                child_died_holding([&] { queue_state_probe::put_without_waking(*state, "late"); });
        });
    const auto start = clock_type::now();
    std::string got;
    BOOST_CHECK_NO_THROW(got = loop.run(body()));
    const auto waited = clock_type::now() - start;
    killer.join();
    BOOST_TEST(slept);
    BOOST_TEST(died);
    BOOST_TEST(!queue_state_probe::put_holder_dead(*state));
    BOOST_TEST(got == "late");
    BOOST_TEST(std::chrono::duration<double>(waited).count() <
               std::chrono::duration<double>(waited_too_long).count());
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
