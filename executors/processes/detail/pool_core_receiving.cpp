// Reading outcomes out of a worker's ring: whole messages become completions of the calls the
// worker holds, in the order they were sent.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "executors/processes/detail/pool_core.hpp"
#include "executors/processes/detail/shm_channel.hpp"
#include "executors/processes/detail/wire.hpp"

namespace weft::detail
{
namespace
{

// Outcomes up to this size are copied out of a worker's inbox; a larger one that ends the
// inbox takes the inbox with it instead (receive).
constexpr std::size_t g_copied_outcome = 256;

// "type: what" of an exception a worker sent.
std::string describe_remote_exception(std::string_view body)
{
    try
    {
        std::string name;
        std::string what;
        wire_reader reader(body);
        reader.archive()(name, what);
        return name + ": " + what;
    }
    catch (...)
    {
        return "an exception that could not be decoded";
    }
}

} // namespace

bool pool_core::receive(worker_slot& w, std::vector<pool_completion>& done)
{
    shm_channel_header& header = w.channel.header();
    const std::size_t available = shm_channel::readable(header.results);
    if (available == 0)
    {
        return false;
    }
    const std::size_t old = w.inbox.size();
    w.inbox.resize(old + available);
    const std::size_t got = w.channel.read_some(header.results, w.channel.result_bytes(),
                                                w.inbox.data() + old, available);
    w.inbox.resize(old + got);
    if (header.results_blocked.load(std::memory_order_seq_cst) != 0)
    {
        wake_worker(header); // it waits for room to write a large result
    }
    while (w.inbox.size() - w.inbox_at >= 4)
    {
        std::uint32_t length = 0;
        std::memcpy(&length, w.inbox.data() + w.inbox_at, sizeof length);
        if (w.inbox.size() - w.inbox_at - 4 < length)
        {
            break;
        }
        const char* message = w.inbox.data() + w.inbox_at + 4;
        std::uint64_t id = 0;
        std::memcpy(&id, message, sizeof id);
        pool_completion c;
        c.kind = static_cast<outcome_kind>(message[result_kind_at - 4]);
        std::uint64_t run_ns = 0;
        std::memcpy(&run_ns, message + (result_run_ns_at - 4), sizeof run_ns);
        constexpr std::size_t head = result_prefix_size - 4; // after the length
        const std::size_t end = w.inbox_at + 4 + length;
        if (end == w.inbox.size() && length - head > g_copied_outcome)
        {
            // The last message in the inbox (a chunk's values, say): its bytes stay where they
            // are and the inbox goes with them, so a large result is not copied again.
            c.body_at = w.inbox_at + 4 + head;
            c.body = std::move(w.inbox);
            w.inbox.clear();
            w.inbox_at = 0;
        }
        else
        {
            c.body.assign(message + head, length - head);
            w.inbox_at = end;
        }
        if (w.killed)
        {
            continue; // its calls were failed by terminate()
        }
        if (id == initializer_task_id)
        {
            break_pool("the worker initializer threw " + describe_remote_exception(c.outcome()));
            continue;
        }
        // Outcomes come back in the order the calls were sent.
        if (w.written == 0 || w.assigned.front()->id != id)
        {
            std::fprintf(stderr, "weft: process pool worker %d sent an unexpected result\n",
                         static_cast<int>(w.child.pid));
            continue;
        }
        c.call = std::move(w.assigned.front());
        w.assigned.pop_front();
        --w.written;
        w.ran_something = true;
        const auto took = std::chrono::nanoseconds(static_cast<std::int64_t>(run_ns));
        m_timings.record(c.call->timing_key, took, c.call->calls);
        m_deaths_in_a_row = 0;
        done.push_back(std::move(c));
    }
    if (w.inbox_at == w.inbox.size())
    {
        w.inbox.clear();
        w.inbox_at = 0;
    }
    kill_if_deaf_and_idle(w);
    return true;
}

} // namespace weft::detail
