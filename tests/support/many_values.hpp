#pragma once
// Many shared values in one task argument: more than one SCM_RIGHTS datagram's worth of
// descriptors (250) when there are more than 250. shared_value has no default constructor, so
// the vector is written and read element by element.
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
