// threads_create_join: the two ways the seeds create a thread with Python's threading.Thread,
// ported to weft::thread: a target function with arguments (Python's args and kwargs become
// plain arguments) and a name, and a subclass that overrides run().
//
//   build/examples/threads/threads_create_join
// prints
//   demoThread received the arguments: 1 2 3 777 111
//   subclassThread is executing
//   MainThread exiting

#include <cstdio>
#include <weft/weft.hpp>

namespace
{

void thread_task(int a, int b, int c, int key1, int key2)
{
    std::printf("%s received the arguments: %d %d %d %d %d\n", weft::current_thread_name().c_str(),
                a, b, c, key1, key2);
}

// Python's `class MyTask(Thread)` with run() overridden.
class my_task : public weft::thread
{
  public:
    my_task() : thread({.name = "subclassThread"}) {}
    // run() belongs to this object, so the thread must end before the object does.
    ~my_task() override
    {
        if (is_alive())
        {
            join();
        }
    }

  protected:
    void run() override { std::printf("%s is executing\n", weft::current_thread_name().c_str()); }
};

} // namespace

int main()
{
    weft::thread my_thread({.name = "demoThread", .daemon = false}, thread_task, 1, 2, 3,
                           /*key1=*/777, /*key2=*/111);
    my_thread.start(); // start the thread
    my_thread.join();  // wait for the thread to complete

    my_task task;
    task.start();
    task.join();

    std::printf("%s exiting\n", weft::current_thread_name().c_str());
    return 0;
}
