// block_allocator: the blocks a submitted call's state is made in, from huge-page chunks. Each
// block is its own, aligned and reused once freed; a burst's empty chunks are kept for the next
// burst (given back lazily) or go back to the system; any thread may free; and a fork while
// another thread allocates leaves the child able to allocate.
#define BOOST_TEST_MODULE block_allocator
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <sys/mman.h>

#include "executors/detail/block_allocator.hpp"
#include "support/in_a_forked_child.hpp"

namespace
{

using weft::detail::allocate_block;
using weft::detail::block_allocator;
using weft::detail::free_block;

constexpr std::uintptr_t chunk_bytes = std::uintptr_t{2} << 20;

// How many of these addresses are mapped in this process (mincore fails with ENOMEM on an
// unmapped page).
std::size_t mapped_count(const std::set<std::uintptr_t>& addresses)
{
    std::size_t mapped = 0;
    for (std::uintptr_t address : addresses)
    {
        unsigned char resident = 0;
        if (::mincore(reinterpret_cast<void*>(address), 1, &resident) == 0)
        {
            ++mapped;
        }
    }
    return mapped;
}

// The process's memory the kernel may take back without asking (MADV_FREE), from
// /proc/self/smaps_rollup.
std::size_t lazily_freed_bytes()
{
    std::ifstream rollup("/proc/self/smaps_rollup");
    std::string line;
    while (std::getline(rollup, line))
    {
        std::size_t kib = 0;
        if (std::sscanf(line.c_str(), "LazyFree: %zu kB", &kib) == 1)
        {
            return kib * 1024;
        }
    }
    BOOST_FAIL("no LazyFree line in /proc/self/smaps_rollup");
    return 0;
}

// Bytes of the pages of these chunks that are mapped but not resident.
std::size_t non_resident_bytes(const std::set<std::uintptr_t>& chunks)
{
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> resident(chunk_bytes / page);
    std::size_t bytes = 0;
    for (std::uintptr_t chunk : chunks)
    {
        if (::mincore(reinterpret_cast<void*>(chunk), chunk_bytes, resident.data()) == 0)
        {
            bytes += page * static_cast<std::size_t>(std::count_if(resident.begin(), resident.end(),
                                                                   [](unsigned char r)
                                                                   { return (r & 1) == 0; }));
        }
    }
    return bytes;
}

struct chunks_report
{
    std::size_t mapped = 0;
};

struct fork_report
{
    int finished = 0;
    int allocated = 0;
};

} // namespace

BOOST_AUTO_TEST_CASE(blocks_are_distinct_aligned_and_hold_what_is_written)
{
    // 20,000 blocks of 272 bytes span three 2 MiB chunks.
    constexpr std::size_t size = 272;
    std::vector<unsigned char*> blocks;
    for (int i = 0; i < 20'000; ++i)
    {
        auto* block = static_cast<unsigned char*>(allocate_block(size));
        BOOST_REQUIRE(reinterpret_cast<std::uintptr_t>(block) % 16 == 0);
        std::memset(block, i & 0xff, size);
        blocks.push_back(block);
    }
    std::set<unsigned char*> distinct(blocks.begin(), blocks.end());
    BOOST_TEST(distinct.size() == blocks.size());
    std::vector<unsigned char*> sorted(blocks);
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 1; i < sorted.size(); ++i)
    {
        BOOST_REQUIRE(sorted[i] - sorted[i - 1] >= static_cast<std::ptrdiff_t>(size));
    }
    for (std::size_t i = 0; i < blocks.size(); ++i)
    {
        const auto expected = static_cast<unsigned char>(i & 0xff);
        BOOST_REQUIRE(std::all_of(blocks[i], blocks[i] + size,
                                  [&](unsigned char byte) { return byte == expected; }));
    }
    for (auto* block : blocks)
    {
        free_block(block);
    }
}

BOOST_AUTO_TEST_CASE(a_freed_block_is_given_again)
{
    void* first = allocate_block(64);
    void* keep = allocate_block(64); // so that the chunk does not empty and start over
    free_block(first);
    void* second = allocate_block(64);
    BOOST_TEST(second == first);
    free_block(second);
    free_block(keep);
}

BOOST_AUTO_TEST_CASE(allocate_shared_with_it_makes_and_destroys_objects)
{
    struct tracked
    {
        std::atomic<int>* alive;
        std::array<char, 200> payload{};
        explicit tracked(std::atomic<int>* a) : alive(a) { ++*alive; }
        ~tracked() { --*alive; }
    };
    std::atomic<int> alive{0};
    {
        std::vector<std::shared_ptr<tracked>> objects;
        for (int i = 0; i < 1'000; ++i)
        {
            objects.push_back(std::allocate_shared<tracked>(block_allocator<tracked>(), &alive));
            objects.back()->payload.fill(static_cast<char>(i));
        }
        BOOST_TEST(alive.load() == 1'000);
        BOOST_TEST(objects[999]->payload[199] == static_cast<char>(999));
    }
    BOOST_TEST(alive.load() == 0);
    // Larger than a block: served by operator new, through the same allocator type.
    struct large
    {
        std::array<char, 4096> bytes{};
    };
    auto big = std::allocate_shared<large>(block_allocator<large>());
    big->bytes[4095] = 'x';
    BOOST_TEST(big->bytes[4095] == 'x');
}

BOOST_AUTO_TEST_CASE(a_bursts_memory_is_kept_for_the_next_burst_or_goes_back_to_the_system)
{
    // 200,000 blocks of 1,024 bytes: about 200 MiB in 100 chunks of 2 MiB. (Checked by whether
    // the chunks are still mapped and by the kernel's count of lazily freed memory, not by the
    // resident set, which sanitizers' shadow blurs.)
    constexpr std::size_t size = 1024;
    constexpr std::size_t kept = 64; // block_allocator.cpp's spares_kept
    auto burst = [&](std::vector<void*>& blocks)
    {
        std::set<std::uintptr_t> chunks;
        for (int i = 0; i < 200'000; ++i)
        {
            void* block = allocate_block(size);
            std::memset(block, 1, size);
            blocks.push_back(block);
            chunks.insert(reinterpret_cast<std::uintptr_t>(block) & ~(chunk_bytes - 1));
        }
        return chunks;
    };
    std::vector<void*> blocks;
    const std::set<std::uintptr_t> first = burst(blocks);
    BOOST_TEST(first.size() >= 98U);
    BOOST_TEST(mapped_count(first) == first.size());
    const std::size_t lazy_before = lazily_freed_bytes();
    for (void* block : blocks)
    {
        free_block(block);
    }
    blocks.clear();
    // 64 empty chunks are kept back for the next burst; the rest are unmapped. (A few of their
    // addresses may be mapped again meanwhile, by a sanitizer's runtime.)
    BOOST_TEST(mapped_count(first) >= kept);
    BOOST_TEST(mapped_count(first) <= kept + 4U);
    // All but one of the kept chunks are the kernel's to take back when it needs memory: 63
    // chunks, 126 MiB, counted as lazily freed, or no longer resident where the kernel took
    // them meanwhile.
    BOOST_TEST(lazily_freed_bytes() - std::min(lazy_before, lazily_freed_bytes()) +
                   non_resident_bytes(first) >=
               100U * (1U << 20));
    // A child of fork() gets only the chunk emptied last, as it is: the others would count as
    // its resident memory.
    const auto in_child = weft::testing::in_a_forked_child<chunks_report>(
        [&](chunks_report& r) { r.mapped = mapped_count(first); },
        {.limit = std::chrono::seconds(10)});
    BOOST_TEST(in_child.mapped >= 1U);
    BOOST_TEST(in_child.mapped <= 1U + 4U);
    // The next burst starts on the kept chunks, not on fresh mappings.
    const std::set<std::uintptr_t> second = burst(blocks);
    std::size_t reused = 0;
    for (std::uintptr_t chunk : second)
    {
        reused += first.count(chunk);
    }
    BOOST_TEST(reused >= kept);
    for (void* block : blocks)
    {
        free_block(block);
    }
}

BOOST_AUTO_TEST_CASE(any_thread_may_free_what_another_allocated)
{
    constexpr int count = 200'000;
    std::vector<void*> handed(count);
    std::atomic<int> published{0};
    std::thread freer(
        [&]
        {
            for (int i = 0; i < count; ++i)
            {
                while (published.load(std::memory_order_acquire) <= i)
                {
                    std::this_thread::yield();
                }
                BOOST_REQUIRE(*static_cast<int*>(handed[i]) == i);
                free_block(handed[i]);
            }
        });
    for (int i = 0; i < count; ++i)
    {
        void* block = allocate_block(48);
        *static_cast<int*>(block) = i;
        handed[i] = block;
        published.store(i + 1, std::memory_order_release);
    }
    freer.join();
}

BOOST_AUTO_TEST_CASE(a_child_forked_while_another_thread_allocates_can_allocate)
{
    std::atomic<bool> stop{false};
    std::thread churn(
        [&]
        {
            while (!stop.load(std::memory_order_relaxed))
            {
                void* block = allocate_block(96);
                free_block(block);
            }
        });
    for (int round = 0; round < 20; ++round)
    {
        const auto report = weft::testing::in_a_forked_child<fork_report>(
            [](fork_report& r)
            {
                for (int i = 0; i < 1'000; ++i)
                {
                    free_block(allocate_block(96));
                    ++r.allocated;
                }
                r.finished = 1;
            },
            {.limit = std::chrono::seconds(10)});
        BOOST_TEST(report.finished == 1);
        BOOST_TEST(report.allocated == 1'000);
    }
    stop = true;
    churn.join();
}
