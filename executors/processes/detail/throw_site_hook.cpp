// weft's __cxa_throw: records the stack of a throw on a thread running a task, then throws as
// the C++ runtime does. Alone in its file: a C++ throw expression here would declare the
// runtime's own __cxa_throw, whose parameter types differ from the ones spelled below.
#include <cstdlib>
#include <dlfcn.h>
#include <unistd.h>
#include <unwind.h>

#include "executors/processes/detail/throw_sites.hpp"

namespace weft::detail
{
namespace
{

struct recorded_throw
{
    const void* base = nullptr; // the frame address of the task's caller; null: not recording
    const void* object = nullptr;
    const void* type = nullptr; // its std::type_info: an address alone may be reused
    int count = 0;
    void* frames[max_throw_frames] = {};
};

thread_local recorded_throw t_recorded;

_Unwind_Reason_Code collect_frame(_Unwind_Context* context, void* skip)
{
    // The first frame is the hook's own.
    if (*static_cast<int*>(skip) > 0)
    {
        --*static_cast<int*>(skip);
        return _URC_NO_REASON;
    }
    // The stack grows down, and the callback sees a frame with the canonical frame address of
    // the frame it called: the first above the task's caller's frame address is that of the
    // caller's caller, and the frame before it, the caller's own, was weft's too.
    if (reinterpret_cast<const void*>(_Unwind_GetCFA(context)) > t_recorded.base)
    {
        t_recorded.count = t_recorded.count > 0 ? t_recorded.count - 1 : 0;
        return _URC_END_OF_STACK;
    }
    if (t_recorded.count == max_throw_frames)
    {
        return _URC_END_OF_STACK;
    }
    t_recorded.frames[t_recorded.count++] = reinterpret_cast<void*>(_Unwind_GetIP(context));
    return _URC_NO_REASON;
}

using throw_function = void (*)(void*, void*, void (*)(void*));

} // namespace

throw_site_recording::throw_site_recording(const void* base) noexcept : m_previous(t_recorded.base)
{
    t_recorded.base = base;
    t_recorded.object = nullptr;
    t_recorded.count = 0;
}

throw_site_recording::~throw_site_recording()
{
    t_recorded.base = m_previous;
}

int recorded_throw_frames(const void* object, const void* type, void** frames) noexcept
{
    if (object == nullptr || object != t_recorded.object || type != t_recorded.type)
    {
        return 0;
    }
    for (int i = 0; i < t_recorded.count; ++i)
    {
        frames[i] = t_recorded.frames[i];
    }
    return t_recorded.count;
}

} // namespace weft::detail

// Weak: a program linked with a static libstdc++ keeps the runtime's own, and gets no
// backtraces instead of a duplicate symbol. A dynamic one finds this one first (the executable
// or libweft comes before libstdc++ in the lookup order) and it passes on to the next.
extern "C" [[noreturn]] __attribute__((weak)) void __cxa_throw(void* object, void* type,
                                                               void (*destroy)(void*))
{
    using namespace weft::detail;
    if (t_recorded.base != nullptr)
    {
        t_recorded.object = object;
        t_recorded.type = type;
        t_recorded.count = 0;
        int skip = 1;
        _Unwind_Backtrace(&collect_frame, &skip);
    }
    static const auto next = reinterpret_cast<throw_function>(::dlsym(RTLD_NEXT, "__cxa_throw"));
    if (next == nullptr)
    {
        static const char message[] = "weft: no C++ runtime __cxa_throw after weft's\n";
        (void)!::write(2, message, sizeof message - 1);
        std::abort();
    }
    next(object, type, destroy);
    __builtin_unreachable();
}
