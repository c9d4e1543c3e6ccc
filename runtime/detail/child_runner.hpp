#pragma once
// The coroutine that runs one child of when_all, when_any or a task_group. It awaits the child
// task under its owner's stop token, hands the outcome to a sink, and at its end destroys its
// own frame (and with it the child's) before telling its owner, which may then resume the
// awaiting coroutine by symmetric transfer. Owners keep their running children in an intrusive
// list, so that an owner destroyed with children still suspended (event-loop teardown) frees
// them instead of leaking them.

#include <coroutine>
#include <exception>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "runtime/errors.hpp"
#include "runtime/task.hpp"

namespace weft::detail
{

/// Told when one of its children has finished. Loop thread only.
class child_owner
{
  public:
    /// Called once the child's frame is gone; returns the coroutine to resume next, or
    /// std::noop_coroutine() for none.
    [[nodiscard]] virtual std::coroutine_handle<> child_finished() noexcept = 0;

  protected:
    child_owner() = default;
    ~child_owner() = default;
    child_owner(const child_owner&) = delete;
    child_owner& operator=(const child_owner&) = delete;
};

struct child_link
{
    child_link* prev = nullptr;
    child_link* next = nullptr;
};

class child_promise;

/// Owns a runner's frame until a child_list adopts it; destroys it (unstarted) otherwise.
class [[nodiscard]] child_runner
{
  public:
    using promise_type = child_promise;

    explicit child_runner(std::coroutine_handle<child_promise> handle) noexcept : m_handle(handle)
    {
    }
    child_runner(child_runner&& other) noexcept : m_handle(std::exchange(other.m_handle, {})) {}
    child_runner(const child_runner&) = delete;
    child_runner& operator=(const child_runner&) = delete;
    child_runner& operator=(child_runner&&) = delete;
    ~child_runner()
    {
        if (m_handle)
        {
            m_handle.destroy();
        }
    }

    [[nodiscard]] std::coroutine_handle<child_promise> handle() const noexcept { return m_handle; }
    [[nodiscard]] std::coroutine_handle<child_promise> release() noexcept
    {
        return std::exchange(m_handle, {});
    }

  private:
    std::coroutine_handle<child_promise> m_handle;
};

class child_promise : public child_link
{
  public:
    struct final_awaiter
    {
        [[nodiscard]] bool await_ready() const noexcept { return false; }

        // The frame is destroyed before the owner hears of it, so that whatever the owner
        // resumes sees every finished child's memory already freed.
        std::coroutine_handle<> await_suspend(std::coroutine_handle<child_promise> self) noexcept
        {
            child_owner* owner = self.promise().m_owner;
            self.destroy();
            return owner->child_finished();
        }

        void await_resume() const noexcept {}
    };

    child_promise() noexcept = default;
    child_promise(const child_promise&) = delete;
    child_promise& operator=(const child_promise&) = delete;
    ~child_promise()
    {
        if (next != nullptr)
        {
            prev->next = next;
            next->prev = prev;
        }
    }

    child_runner get_return_object() noexcept
    {
        return child_runner(std::coroutine_handle<child_promise>::from_promise(*this));
    }
    [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }
    [[nodiscard]] final_awaiter final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    // run_child catches everything the child throws; nothing else in its body can throw.
    [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }

    /// The token the child inherits (the task awaiter bridges it with a token of the child's
    /// own).
    [[nodiscard]] const std::stop_token& stop_token() const noexcept { return m_stop_token; }

  private:
    friend class child_list;

    child_owner* m_owner = nullptr;
    std::stop_token m_stop_token;
};

/// The running children of one owner, in the order they were adopted. Not movable: the
/// children point at its sentinel.
class child_list
{
  public:
    child_list() noexcept { m_head.prev = m_head.next = &m_head; }
    /// Destroys every child still linked (see destroy_all).
    ~child_list() { destroy_all(); }
    child_list(const child_list&) = delete;
    child_list& operator=(const child_list&) = delete;

    /// Takes `runner` (not started yet), makes `owner` the one told when it finishes and
    /// `token` the token it runs under, and returns its handle, to be resumed to start it.
    std::coroutine_handle<child_promise> adopt(child_runner runner, child_owner& owner,
                                               std::stop_token token) noexcept
    {
        const std::coroutine_handle<child_promise> handle = runner.release();
        child_promise& promise = handle.promise();
        promise.m_owner = &owner;
        promise.m_stop_token = std::move(token);
        promise.prev = m_head.prev;
        promise.next = &m_head;
        m_head.prev->next = &promise;
        m_head.prev = &promise;
        return handle;
    }

    [[nodiscard]] bool empty() const noexcept { return m_head.next == &m_head; }

    /// Resumes every linked child once, in order: used to start children adopted but not yet
    /// started. A child that finishes at once unlinks itself; the walk has already read its
    /// successor, and a child not yet started cannot finish, so the walk stays valid.
    void start_all() noexcept
    {
        for (child_link* node = m_head.next; node != &m_head;)
        {
            child_link* const next = node->next;
            handle_of(*node).resume();
            node = next;
        }
    }

    /// Destroys every child still linked, where it is suspended, without telling the owner.
    /// Only safe where nothing will resume them and the kernel holds none of their buffers:
    /// for children never started, and during event-loop teardown, which has already taken
    /// back every operation from the kernel.
    void destroy_all() noexcept
    {
        while (!empty())
        {
            handle_of(*m_head.next).destroy();
        }
    }

  private:
    static std::coroutine_handle<child_promise> handle_of(child_link& node) noexcept
    {
        return std::coroutine_handle<child_promise>::from_promise(
            static_cast<child_promise&>(node));
    }

    child_link m_head; // sentinel
};

/// Awaits `child` and reports how it ended to `sink`, on the loop thread:
///   sink.on_value(result)  (no argument for task<void>) when it returned,
///   sink.on_cancelled(e)   when it threw operation_cancelled,
///   sink.on_error(e)       when it threw anything else, or when on_value threw.
/// The sink is a small value (pointers into its owner), copied into the frame.
template <class T, class Sink>
child_runner run_child(task<T> child, Sink sink)
{
    try
    {
        if constexpr (std::is_void_v<T>)
        {
            co_await std::move(child);
            sink.on_value();
        }
        else
        {
            sink.on_value(co_await std::move(child));
        }
    }
    catch (const operation_cancelled&)
    {
        sink.on_cancelled(std::current_exception());
    }
    catch (...)
    {
        sink.on_error(std::current_exception());
    }
}

} // namespace weft::detail
