// condition_producer_consumer: the seeds' "Condition - for consumer/producer" note as a
// program. A producer appends ten items to a list under a weft::condition and notifies; a
// consumer waits with wait_for(predicate), which re-tests the predicate under the lock after
// every wake-up, so neither a notification sent before it waits nor a spurious state change
// can trip it up. Its wait is bounded, so a bug would end it instead of hanging.
//
//   build/examples/threads/condition_producer_consumer
// prints "produced i" and "consumed i" for i = 0..9 and exits 0 when all ten were consumed.

#include <chrono>
#include <cstdio>
#include <deque>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

int main()
{
    weft::condition cond;
    std::deque<int> items; // guarded by cond's lock
    bool done = false;     // guarded by cond's lock
    int consumed = 0;

    weft::thread consumer({.name = "consumer"},
                          [&]
                          {
                              auto held = cond.guard();
                              while (true)
                              {
                                  if (!cond.wait_for([&] { return !items.empty() || done; }, 10s))
                                  {
                                      std::printf("consumer: nothing for 10 s, giving up\n");
                                      return;
                                  }
                                  if (items.empty())
                                  {
                                      return; // done, and everything consumed
                                  }
                                  std::printf("consumed %d\n", items.front());
                                  items.pop_front();
                                  ++consumed;
                              }
                          });
    weft::thread producer({.name = "producer"},
                          [&]
                          {
                              for (int i = 0; i < 10; ++i)
                              {
                                  std::this_thread::sleep_for(20ms);
                                  auto held = cond.guard();
                                  items.push_back(i);
                                  std::printf("produced %d\n", i);
                                  cond.notify();
                              }
                              auto held = cond.guard();
                              done = true;
                              cond.notify_all();
                          });
    consumer.start();
    producer.start();
    producer.join();
    consumer.join();
    return consumed == 10 ? 0 : 1;
}
