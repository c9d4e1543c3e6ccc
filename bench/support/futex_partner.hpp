#pragma once
// The sleeping (or spinning) futex floor of a round trip between two processes: a child that
// answers each turn of one shared futex word.

#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <unistd.h>

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bench/support/bench_support.hpp"

namespace bench
{

/// A child process that bounces a shared futex word with this one: the word counts turns, even
/// is the parent's, odd the child's. Both sides sleep in FUTEX_WAIT, or, with `spin`, spin. The
/// child stays for the partner's lifetime, so that its round trips can be interleaved with
/// another measurement's and both see the same moments of a noisy machine. The child runs on
/// `child_cpu` (-1: anywhere); the parent's placement is the caller's.
class futex_partner
{
  public:
    futex_partner(bool spin, int child_cpu) : m_spin(spin)
    {
        void* shared =
            ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared == MAP_FAILED)
        {
            std::perror("mmap");
            std::exit(1);
        }
        m_word = new (shared) std::atomic<std::uint32_t>(0);
        m_child = ::fork();
        if (m_child == 0)
        {
            pin(child_cpu);
            for (std::uint32_t turn = 1;; turn += 2)
            {
                await_turn(turn);
                if (m_word->load() == stop)
                {
                    ::_exit(0);
                }
                m_word->store(turn + 1);
                wake(m_word);
            }
        }
    }
    futex_partner(const futex_partner&) = delete;
    futex_partner& operator=(const futex_partner&) = delete;
    ~futex_partner()
    {
        m_word->store(stop);
        wake(m_word);
        ::waitpid(m_child, nullptr, 0);
        ::munmap(m_word, 4096);
    }

    /// The first half of a round trip: the child's turn, and its wake-up.
    void hand_over()
    {
        m_word->store(m_turn + 1);
        wake(m_word);
    }
    /// The second half: until the child has answered.
    void await_answer()
    {
        await_turn(m_turn + 2);
        m_turn += 2;
    }
    /// One round trip, us.
    double round_trip()
    {
        const auto start = now_ns();
        hand_over();
        await_answer();
        return static_cast<double>(now_ns() - start) / 1e3;
    }
    [[nodiscard]] pid_t pid() const noexcept { return m_child; }

  private:
    static constexpr std::uint32_t stop = 0xffff'ffffU; // odd: the child's turn, to leave

    static void wake(std::atomic<std::uint32_t>* word)
    {
        ::syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
    }

    void await_turn(std::uint32_t turn)
    {
        for (;;)
        {
            const std::uint32_t now = m_word->load();
            if (now == turn || now == stop)
            {
                return;
            }
            if (!m_spin)
            {
                ::syscall(SYS_futex, m_word, FUTEX_WAIT, now, nullptr, nullptr, 0);
            }
        }
    }

    bool m_spin;
    std::atomic<std::uint32_t>* m_word = nullptr;
    std::uint32_t m_turn = 0;
    pid_t m_child = -1;
};

} // namespace bench
