#pragma once
// What can be sent to another process: the compile-time half of weft's answer to pickling.

#include <array>
#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>
#include <concepts>
#include <string>
#include <type_traits>
#include <vector>

namespace weft
{
namespace detail
{

template <class T>
struct is_byte_vector : std::false_type
{
};
template <class T, class A>
struct is_byte_vector<std::vector<T, A>>
    : std::bool_constant<std::is_trivially_copyable_v<T> && std::is_copy_constructible_v<T> &&
                         !std::is_same_v<T, bool>>
{
};
template <class T>
struct is_std_array : std::false_type
{
};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type
{
};

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

} // namespace detail

/// Sent as its bytes: arithmetic types, enums and trivially copyable classes (a pointer member
/// would arrive dangling: give such a type a cereal serialize() instead). Raw pointers never.
/// Copyable too: GCC calls a class whose copies are deleted (one holding a std::mutex, say)
/// trivially copyable, and its bytes must not be copied into another process either.
template <class T>
concept bytewise_shippable = std::is_trivially_copyable_v<T> && std::is_copy_constructible_v<T> &&
                             !detail::pointer_like<T> &&
                             !std::is_array_v<T> && !std::is_reference_v<T>;

/// A value weft can send to another process: bytewise_shippable, a vector of such (one copy of
/// its storage), or anything cereal can save and load with its binary archives: strings, the
/// standard containers (include their cereal/types/ header, or <weft/weft.hpp> which includes
/// the common ones), and user types with a serialize() member or free function.
template <class T>
concept shippable =
    !std::is_reference_v<T> && !detail::pointer_like<T> &&
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

// One static_assert per argument, so that the compiler names the offending type.
template <class T>
constexpr bool check_shippable_argument()
{
    static_assert(!pointer_like<T>,
                  "weft: a pointer cannot be sent to another process (it would point into the "
                  "sender's memory): pass the value, or a container of values");
    static_assert(shippable<T>,
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
