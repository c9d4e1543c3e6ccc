#pragma once
// Where a task's exception was thrown, for the caller in another process (Python sends the
// worker's traceback with the exception). The stack is gone by the time the worker catches, so
// weft's __cxa_throw records it at the throw, on a thread that asked (while it runs a task).

#include <cstdint>
#include <exception>
#include <string>

namespace weft::detail
{

inline constexpr int max_throw_frames = 64;

/// While alive, each throw on this thread records its stack, from the throw up to the frames
/// that `base` (the caller's __builtin_frame_address(0)) called. Nests.
class throw_site_recording
{
  public:
    explicit throw_site_recording(const void* base) noexcept;
    ~throw_site_recording();
    throw_site_recording(const throw_site_recording&) = delete;
    throw_site_recording& operator=(const throw_site_recording&) = delete;

  private:
    const void* m_previous;
};

/// The return addresses recorded when the exception object `object` of type `type` (its
/// std::type_info) was last thrown on this thread, into `frames` (max_throw_frames of room),
/// most recent call first; 0 when the last throw recorded was another's.
int recorded_throw_frames(const void* object, const void* type, void** frames) noexcept;

/// The stack recorded when `error` was thrown on this thread, a line per frame ("  #0
/// function at file:line"), most recent call first; "" when none was (thrown before recording
/// began, on another thread, or rethrown since another exception was thrown).
[[nodiscard]] std::string throw_site_of(const std::exception_ptr& error);

/// The name of the function whose code starts at `address` ("square(int)"), from the symbol
/// table or the debug information; "" when neither names it.
[[nodiscard]] std::string name_of_function(std::uintptr_t address);

} // namespace weft::detail
