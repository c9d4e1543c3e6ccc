#pragma once
// Many shared values in one task argument: more than one SCM_RIGHTS datagram's worth of
// descriptors (250) when there are more than 250. shared_value has no default constructor, so
// the vector is written and read element by element. ones(n) makes one of n values of 1.
#include <cstdint>
#include <vector>
#include <weft/weft.hpp>

struct many_values
{
    std::vector<weft::shared_value<int>> values;

    template <class Archive>
    void save(Archive& archive) const
    {
        archive(static_cast<std::uint32_t>(values.size()));
        for (const auto& v : values)
        {
            archive(v);
        }
    }
    template <class Archive>
    void load(Archive& archive)
    {
        std::uint32_t n = 0;
        archive(n);
        values.clear();
        for (std::uint32_t i = 0; i < n; ++i)
        {
            weft::shared_value<int> v(weft::detail::unloaded);
            archive(v);
            values.push_back(std::move(v));
        }
    }
};

/// `count` shared values of 1: a task's argument of `count` descriptors whose sum is `count`.
inline many_values ones(int count)
{
    many_values many;
    for (int i = 0; i < count; ++i)
    {
        many.values.emplace_back(1);
    }
    return many;
}
