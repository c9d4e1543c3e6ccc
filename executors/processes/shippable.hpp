#pragma once
// What can be sent to another process: the compile-time half of weft's answer to pickling.

#include <array>
#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>
#include <chrono>
#include <concepts>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "executors/processes/detail/aggregate_fields.hpp"

namespace weft
{

/// Specialize as std::true_type for a trivially copyable class whose bytes mean the same in
/// every process but whose fields weft cannot check (one with constructors, private members or
/// a base class): it is then sent as its bytes, pointers and all, on your word.
///     template <> struct weft::ship_bytewise<my_handle> : std::true_type {};
template <class T>
struct ship_bytewise : std::false_type
{
};

namespace detail
{

/// The tag of a constructor that makes an empty handle for cereal to load into, for types whose
/// default constructor does real work (a shared_value's makes shared memory).
struct unloaded_t
{
    explicit unloaded_t() = default;
};
inline constexpr unloaded_t unloaded{};

// Non-owning views point into the sender's memory: they cannot arrive anywhere useful.
template <class T>
concept pointer_like =
    std::is_pointer_v<T> || std::is_member_pointer_v<T> || std::is_null_pointer_v<T>;

template <class T>
struct is_view : std::false_type
{
};
template <class C, class Traits>
struct is_view<std::basic_string_view<C, Traits>> : std::true_type
{
};
template <class E, std::size_t N>
struct is_view<std::span<E, N>> : std::true_type
{
};
template <class T>
struct is_view<std::reference_wrapper<T>> : std::true_type
{
};
/// A standard view (string_view, span, reference_wrapper): trivially copyable, and a pointer.
template <class T>
concept view_like = is_view<std::remove_cv_t<T>>::value;

template <class T>
constexpr bool bytes_travel() noexcept;

// The standard class templates whose bytes travel when their parameters' do. They are not
// aggregates weft could look inside, and cereal's serializers for them are not the user's.
template <class T>
struct std_bytes : std::false_type
{
    static constexpr bool known = false;
};
template <class... Ts>
struct std_bytes_of : std::bool_constant<(bytes_travel<Ts>() && ...)>
{
    static constexpr bool known = true;
};
template <class E, std::size_t N>
struct std_bytes<std::array<E, N>> : std_bytes_of<E>
{
};
template <class A, class B>
struct std_bytes<std::pair<A, B>> : std_bytes_of<A, B>
{
};
template <class... Ts>
struct std_bytes<std::tuple<Ts...>> : std_bytes_of<Ts...>
{
};
template <class E>
struct std_bytes<std::optional<E>> : std_bytes_of<E>
{
};
template <class... Ts>
struct std_bytes<std::variant<Ts...>> : std_bytes_of<Ts...>
{
};
template <class Rep, class Period>
struct std_bytes<std::chrono::duration<Rep, Period>> : std_bytes_of<Rep>
{
};
template <class Clock, class Duration>
struct std_bytes<std::chrono::time_point<Clock, Duration>> : std_bytes_of<Duration>
{
};

/// The user wrote a cereal serializer for the trivially copyable class T (a serialize(),
/// save()/load() or their minimal or versioned forms, member or free): it is how T travels.
/// Classes of other kinds go through cereal anyway; cereal's own serializers for the standard
/// types above, arithmetic types and enums are not the user's choice.
template <class T>
concept user_serialized =
    std::is_class_v<T> && std::is_trivially_copyable_v<T> && !std_bytes<T>::known &&
    (cereal::traits::detail::count_output_serializers<T, cereal::BinaryOutputArchive>::value > 0 ||
     cereal::traits::detail::count_input_serializers<T, cereal::BinaryInputArchive>::value > 0);

/// T travels through its user's serializer: weft::ship_bytewise alone overrides it.
template <class T>
concept serialized_by_user = user_serialized<T> && !ship_bytewise<T>::value;

template <class... Fields>
constexpr bool all_bytes_travel(aggregate::type_list<Fields...>) noexcept
{
    return (bytes_travel<Fields>() && ...);
}

/// Whether T's bytes mean the same in another process: no pointer, reference or view anywhere
/// in it, and nothing whose own serializer says its bytes are not its value. A class is looked
/// inside only when it is a simple aggregate (detail/aggregate_fields.hpp); any other class
/// needs weft::ship_bytewise.
template <class T>
constexpr bool bytes_travel() noexcept
{
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_reference_v<U> || pointer_like<U> || view_like<U>)
    {
        return false;
    }
    else if constexpr (std::is_arithmetic_v<U> || std::is_enum_v<U>)
    {
        return true;
    }
    else if constexpr (std::is_array_v<U>)
    {
        return bytes_travel<std::remove_extent_t<U>>();
    }
    else if constexpr (!std::is_trivially_copyable_v<U>)
    {
        return false;
    }
    else if constexpr (ship_bytewise<U>::value)
    {
        return true;
    }
    else if constexpr (std_bytes<U>::known)
    {
        return std_bytes<U>::value;
    }
    else if constexpr (serialized_by_user<U>)
    {
        return false;
    }
    else if constexpr (aggregate::inspectable<U>())
    {
        return all_bytes_travel(aggregate::fields<U>{});
    }
    else
    {
        return false;
    }
}

} // namespace detail

/// Sent as its bytes: arithmetic types, enums, arrays and the standard tuples, optionals,
/// variants and durations of such, and trivially copyable aggregates whose every field is such
/// (looked at one by one: a pointer, reference, std::string_view or std::span field would
/// arrive dangling), unless the type has a cereal serializer of its own, which is then what
/// is sent. Other trivially copyable classes (constructors, private members, base classes)
/// cannot be looked inside: they need a serializer, or weft::ship_bytewise. Copyable too: GCC
/// calls a class whose copies are deleted (one holding a std::mutex, say) trivially copyable,
/// and its bytes must not be copied into another process either.
template <class T>
concept bytewise_shippable =
    std::is_trivially_copyable_v<T> && std::is_copy_constructible_v<T> && !std::is_array_v<T> &&
    !std::is_reference_v<T> && detail::bytes_travel<T>();

namespace detail
{
template <class T>
struct is_byte_vector : std::false_type
{
};
template <class T, class A>
struct is_byte_vector<std::vector<T, A>>
    : std::bool_constant<bytewise_shippable<T> && !std::is_same_v<T, bool>>
{
};
} // namespace detail

/// A value weft can send to another process: bytewise_shippable, a vector of such (one copy of
/// its storage), or anything cereal can save and load with its binary archives: strings, the
/// standard containers (include their cereal/types/ header, or <weft/weft.hpp> which includes
/// the common ones), and user types with a serialize() (or save() and load()), member or free.
/// Never a pointer or a view (std::string_view, std::span, std::reference_wrapper).
template <class T>
concept shippable =
    !std::is_reference_v<T> && !detail::pointer_like<T> && !detail::view_like<T> &&
    (bytewise_shippable<T> || detail::is_byte_vector<T>::value ||
     (cereal::traits::is_output_serializable<T, cereal::BinaryOutputArchive>::value &&
      cereal::traits::is_input_serializable<T, cereal::BinaryInputArchive>::value &&
      (std::is_default_constructible_v<T> || std::is_constructible_v<T, detail::unloaded_t>)));

/// A target weft can run in another process without registration: a free function (by
/// pointer; the child finds the same function in the same executable) or an empty,
/// default-constructible function object such as a captureless lambda (the child makes its
/// own). Capturing lambdas and std::function carry state that has no meaning elsewhere.
template <class F>
concept shippable_function = (std::is_pointer_v<F> &&
                              std::is_function_v<std::remove_pointer_t<F>>) ||
                             (std::is_class_v<F> && std::is_empty_v<F> &&
                              std::is_default_constructible_v<F> &&
                              std::is_trivially_copyable_v<F>);

namespace detail
{

/// A trivially copyable, copyable class with no serializer of its own whose bytes do not travel:
/// it has a pointer inside, or weft cannot look inside it.
template <class T>
concept refused_bytes = std::is_class_v<T> && std::is_trivially_copyable_v<T> &&
                        std::is_copy_constructible_v<T> && !view_like<T> &&
                        !user_serialized<T> && !bytewise_shippable<T>;

// One static_assert per argument, so that the compiler names the offending type; one message
// per mistake, each saying what to do instead.
template <class T>
constexpr bool check_shippable_argument()
{
    static_assert(!pointer_like<T>,
                  "weft: a pointer cannot be sent to another process (it would point into the "
                  "sender's memory): pass the value, or a container of values");
    static_assert(!view_like<T>,
                  "weft: a std::string_view, std::span or std::reference_wrapper cannot be sent "
                  "to another process (it points into the sender's memory): pass a std::string, "
                  "a std::vector or the value itself");
    static_assert(!refused_bytes<T>,
                  "weft: this type cannot be sent to another process as its bytes: a field of it "
                  "(or of a field) is a pointer, a reference, a std::string_view or a std::span, "
                  "which would point into the sender's memory, or a class weft cannot look "
                  "inside (constructors, private members, a base class). Hold the values "
                  "themselves (std::string, std::vector, std::array), or give the type a cereal "
                  "serialize() (or save() and load()) that writes what it points to, and a "
                  "default constructor; if its bytes mean the same in every process, specialize "
                  "weft::ship_bytewise<T> as std::true_type");
    static_assert(pointer_like<T> || view_like<T> || refused_bytes<T> || shippable<T>,
                  "weft: this argument or result type cannot be sent to another process: use a "
                  "trivially copyable type, a standard container or string (with its "
                  "cereal/types/ header included), or give the type a cereal serialize() "
                  "(and a default constructor)");
    return true;
}

template <class F>
constexpr bool check_shippable_function()
{
    static_assert(shippable_function<F>,
                  "weft: the target must be a free function or a captureless lambda: a "
                  "capturing lambda, std::function or a stateful function object cannot be sent "
                  "to another process; pass what it captures as arguments instead");
    return true;
}

} // namespace detail
} // namespace weft
