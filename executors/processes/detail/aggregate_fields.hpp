#pragma once
// The fields of a simple aggregate, found without reflection: the technique of Boost.PFR (which
// the Boost of Debian 12, 1.74, lacks). Count the elements by brace-initialising the type, then
// name them with a structured binding, whose decltype is each field's declared type
// (references and arrays included). weft uses it to refuse a trivially copyable struct whose
// bytes hold a pointer: they would dangle in another process.
//
// A structured binding with the wrong number of names is a hard error, not a substitution
// failure, so `inspectable` first checks everything that makes the count uncertain and says no
// where it is: the caller then asks for a serializer instead of guessing. Not caught: an
// anonymous union member (the binding is a hard error that names it).

#include <cstddef>
#include <type_traits>
#include <utility>

namespace weft::detail::aggregate
{

/// More fields than this and the type is not inspected (decompose() has one case per count).
inline constexpr std::size_t max_fields = 32;

/// Converts to any type, as an lvalue so that reference fields accept it too. Never called:
/// only its conversions are looked at.
struct any_field
{
    template <class U>
    operator U&() const noexcept;
};
template <std::size_t>
using any_at = any_field;

/// Converts only to the proper bases of T: an aggregate whose first element it initialises has
/// a base class.
template <class T>
struct any_base
{
    template <class U>
    requires(std::is_base_of_v<U, T> && !std::is_same_v<std::remove_cv_t<U>, T>)
    operator U&() const noexcept;
};

/// Tags the last clause of a probe: none, an unbraced any_field, a braced {any_field}, or an
/// empty {}.
struct no_clause
{
};
struct braced_any
{
};
struct empty_braces
{
};

// The first count: N empty {} clauses, which value-initialise any element that can be (a C
// array, an empty struct, a class with constructors). Braces are never elided from a braced
// clause, so N of them fit exactly when the aggregate has at least N elements. A structured
// binding has no pack form, and neither has a run of {}: the probes are written out.
template <class T, std::size_t N, class Last>
struct value_probe
{
    static constexpr bool value = false;
};
#define WEFT_VALUE_PROBE(N, ...)                                                                   \
    template <class T>                                                                             \
    struct value_probe<T, N, no_clause>                                                            \
    {                                                                                              \
        static constexpr bool value = requires { T{__VA_ARGS__}; };                                \
    };                                                                                             \
    template <class T>                                                                             \
    struct value_probe<T, N, any_field>                                                            \
    {                                                                                              \
        static constexpr bool value = requires { T{__VA_ARGS__ __VA_OPT__(, ) any_field{}}; };     \
    };                                                                                             \
    template <class T>                                                                             \
    struct value_probe<T, N, braced_any>                                                           \
    {                                                                                              \
        static constexpr bool value = requires { T{__VA_ARGS__ __VA_OPT__(, ){any_field{}}}; };    \
    };
// clang-format off
WEFT_VALUE_PROBE(0)
WEFT_VALUE_PROBE(1, {})
WEFT_VALUE_PROBE(2, {}, {})
WEFT_VALUE_PROBE(3, {}, {}, {})
WEFT_VALUE_PROBE(4, {}, {}, {}, {})
WEFT_VALUE_PROBE(5, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(6, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(7, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(8, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(9, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(10, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(11, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(12, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(13, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(14, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(15, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(16, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(17, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(18, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(19, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(20, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(21, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(22, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(23, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(24, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(25, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(26, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(27, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(28, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(29, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(30, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(31, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(32, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
WEFT_VALUE_PROBE(33, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
// clang-format on
#undef WEFT_VALUE_PROBE

// The second count, for an aggregate with an element {} cannot initialise (a reference, a class
// without a default constructor): a braced {any_field} per element.
template <class T, class Indices, class Last>
struct braced_probe;
template <class T, std::size_t... I>
struct braced_probe<T, std::index_sequence<I...>, no_clause>
{
    static constexpr bool value = requires { T{{any_at<I>{}}...}; };
};
template <class T, std::size_t... I>
struct braced_probe<T, std::index_sequence<I...>, any_field>
{
    static constexpr bool value = requires { T{{any_at<I>{}}..., any_field{}}; };
};
template <class T, std::size_t... I>
struct braced_probe<T, std::index_sequence<I...>, empty_braces>
{
    static constexpr bool value = requires { T{{any_at<I>{}}..., {}}; };
};

// A base class, when there is one, is the first element.
template <class T, class Indices>
struct braced_base_first : std::false_type
{
};
template <class T, std::size_t First, std::size_t... Rest>
struct braced_base_first<T, std::index_sequence<First, Rest...>>
{
    static constexpr bool value = requires { T{any_base<T>{}, {any_at<Rest>{}}...}; };
};

/// How many leading elements the probes fill (max_fields + 1 means more than max_fields).
template <class T, std::size_t N = 0>
constexpr std::size_t value_count() noexcept
{
    if constexpr (N > max_fields || !value_probe<T, N + 1, no_clause>::value)
    {
        return N;
    }
    else
    {
        return value_count<T, N + 1>();
    }
}
template <class T, std::size_t N = 0>
constexpr std::size_t braced_count() noexcept
{
    if constexpr (N > max_fields ||
                  !braced_probe<T, std::make_index_sequence<N + 1>, no_clause>::value)
    {
        return N;
    }
    else
    {
        return braced_count<T, N + 1>();
    }
}

struct count_result
{
    bool known;
    std::size_t fields;
};

/// T's number of elements where it is certain: nothing can follow the counted ones (an
/// element one probe cannot initialise stops its count early), and none of them is a base
/// class (decompose() would see the base's fields, or fail).
template <class T>
constexpr count_result count() noexcept
{
    constexpr std::size_t by_value = value_count<T>();
    if constexpr (by_value <= max_fields && !value_probe<T, by_value, any_field>::value &&
                  !value_probe<T, by_value, braced_any>::value)
    {
        // Every element takes {}, so the others are value-initialised as a {} would.
        return {!requires {T{any_base<T>{}};
    }
    , by_value
};
} // namespace weft::detail::aggregate
else
{
    constexpr std::size_t by_braced = braced_count<T>();
    using counted = std::make_index_sequence<by_braced>;
    if constexpr (by_braced <= max_fields && !braced_probe<T, counted, any_field>::value &&
                  !braced_probe<T, counted, empty_braces>::value)
    {
        return {!braced_base_first<T, counted>::value, by_braced};
    }
    else
    {
        return {false, 0};
    }
}
}

/// Whether T's fields can be named by decompose(): an aggregate class (not a union: its members
/// overlap) whose element count is certain, at most max_fields, with no base class.
template <class T>
constexpr bool inspectable() noexcept
{
    if constexpr (!std::is_class_v<T> || !std::is_aggregate_v<T>)
    {
        return false;
    }
    else
    {
        return count<T>().known;
    }
}

template <class... Ts>
struct type_list
{
};

/// Declared only: decompose() is looked at through decltype, never called.
template <class T>
T& declared() noexcept;

/// The declared types of T's N fields, as a type_list. Only for an inspectable T.
template <std::size_t N, class T>
auto decompose(T& t)
{
    // One case per count, written out: a structured binding takes a fixed number of names.
    // clang-format off
    if constexpr (N == 0) { (void)t; return type_list<>{}; }
    else if constexpr (N == 1) { auto& [f0] = t; return type_list<decltype(f0)>{}; }
    else if constexpr (N == 2) { auto& [f0, f1] = t; return type_list<decltype(f0), decltype(f1)>{}; }
    else if constexpr (N == 3) { auto& [f0, f1, f2] = t; return type_list<decltype(f0), decltype(f1), decltype(f2)>{}; }
    else if constexpr (N == 4) { auto& [f0, f1, f2, f3] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3)>{}; }
    else if constexpr (N == 5) { auto& [f0, f1, f2, f3, f4] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4)>{}; }
    else if constexpr (N == 6) { auto& [f0, f1, f2, f3, f4, f5] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5)>{}; }
    else if constexpr (N == 7) { auto& [f0, f1, f2, f3, f4, f5, f6] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6)>{}; }
    else if constexpr (N == 8) { auto& [f0, f1, f2, f3, f4, f5, f6, f7] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7)>{}; }
    else if constexpr (N == 9) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8)>{}; }
    else if constexpr (N == 10) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9)>{}; }
    else if constexpr (N == 11) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10)>{}; }
    else if constexpr (N == 12) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11)>{}; }
    else if constexpr (N == 13) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12)>{}; }
    else if constexpr (N == 14) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13)>{}; }
    else if constexpr (N == 15) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14)>{}; }
    else if constexpr (N == 16) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15)>{}; }
    else if constexpr (N == 17) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16)>{}; }
    else if constexpr (N == 18) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17)>{}; }
    else if constexpr (N == 19) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18)>{}; }
    else if constexpr (N == 20) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19)>{}; }
    else if constexpr (N == 21) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20)>{}; }
    else if constexpr (N == 22) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21)>{}; }
    else if constexpr (N == 23) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21), decltype(f22)>{}; }
    else if constexpr (N == 24) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21), decltype(f22), decltype(f23)>{}; }
    else if constexpr (N == 25) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21), decltype(f22), decltype(f23), decltype(f24)>{}; }
    else if constexpr (N == 26) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24, f25] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21), decltype(f22), decltype(f23), decltype(f24), decltype(f25)>{}; }
    else if constexpr (N == 27) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21), decltype(f22), decltype(f23), decltype(f24), decltype(f25), decltype(f26)>{}; }
    else if constexpr (N == 28) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26, f27] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21), decltype(f22), decltype(f23), decltype(f24), decltype(f25), decltype(f26), decltype(f27)>{}; }
    else if constexpr (N == 29) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21), decltype(f22), decltype(f23), decltype(f24), decltype(f25), decltype(f26), decltype(f27), decltype(f28)>{}; }
    else if constexpr (N == 30) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21), decltype(f22), decltype(f23), decltype(f24), decltype(f25), decltype(f26), decltype(f27), decltype(f28), decltype(f29)>{}; }
    else if constexpr (N == 31) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21), decltype(f22), decltype(f23), decltype(f24), decltype(f25), decltype(f26), decltype(f27), decltype(f28), decltype(f29), decltype(f30)>{}; }
    else if constexpr (N == 32) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31] = t; return type_list<decltype(f0), decltype(f1), decltype(f2), decltype(f3), decltype(f4), decltype(f5), decltype(f6), decltype(f7), decltype(f8), decltype(f9), decltype(f10), decltype(f11), decltype(f12), decltype(f13), decltype(f14), decltype(f15), decltype(f16), decltype(f17), decltype(f18), decltype(f19), decltype(f20), decltype(f21), decltype(f22), decltype(f23), decltype(f24), decltype(f25), decltype(f26), decltype(f27), decltype(f28), decltype(f29), decltype(f30), decltype(f31)>{}; }
    // clang-format on
}

/// The declared types of an inspectable T's fields.
template <class T>
using fields = decltype(decompose<count<T>().fields>(declared<T>()));

} // namespace weft::detail::aggregate
