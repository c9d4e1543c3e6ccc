// producer_consumer: the classic Python threading pipeline (a producer, a consumer, a
// queue.Queue(maxsize=10) between them and a threading.Event that says "stop"), written as two
// coroutines on one event loop with weft::async_queue and weft::async_event.
//
// The producer makes a random message every millisecond; the consumer takes three
// milliseconds to store each one, so the bounded queue fills up and put() suspends the
// producer until there is room. After about 0.1 s the main task sets the event: the producer
// stops and closes the queue, and the consumer drains what is left (a get() on a closed,
// empty queue throws queue_closed, so the consumer cannot block forever as the Python version
// can).
//
//   build/examples/producer_consumer
// prints one line per message produced and stored (with the queue's size), then the totals,
// which must match; it exits 0 when they do.

#include <chrono>
#include <cstdio>
#include <random>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

namespace
{

struct totals
{
    int produced = 0;
    int consumed = 0;
};

weft::task<void> producer(weft::async_queue<int>& pipeline, weft::async_event& stop, totals& count)
{
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> message(1, 100);
    while (!stop.is_set())
    {
        co_await weft::sleep_for(1ms); // making a message takes a while
        const int m = message(random);
        std::printf("producer: made message %d\n", m);
        co_await pipeline.put(m); // suspends while the queue holds 10 messages
        ++count.produced;
    }
    std::printf("producer: stop event received, closing the queue\n");
    pipeline.close();
}

weft::task<void> consumer(weft::async_queue<int>& pipeline, totals& count)
{
    for (;;)
    {
        int m = 0;
        try
        {
            m = co_await pipeline.get();
        }
        catch (const weft::queue_closed&)
        {
            break;
        }
        std::printf("consumer: storing message %d (queue size %zu)\n", m, pipeline.size());
        ++count.consumed;
        co_await weft::sleep_for(3ms); // storing is slower than producing
    }
    std::printf("consumer: queue closed and drained\n");
}

weft::task<void> set_after(std::chrono::milliseconds delay, weft::async_event& event)
{
    co_await weft::sleep_for(delay);
    event.set();
}

weft::task<int> amain()
{
    weft::async_queue<int> pipeline(10);
    weft::async_event stop;
    totals count;
    weft::event_loop& loop = weft::event_loop::require_current("producer_consumer");
    loop.spawn(producer(pipeline, stop, count));
    loop.spawn(set_after(100ms, stop));
    // The consumer only returns once the producer has closed the queue and it is drained.
    co_await consumer(pipeline, count);
    std::printf("produced %d messages, consumed %d\n", count.produced, count.consumed);
    co_return count.produced == count.consumed&& count.produced > 0 ? 0 : 1;
}

} // namespace

int main()
{
    weft::event_loop loop;
    return loop.run(amain());
}
