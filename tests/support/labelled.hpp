#pragma once
// Test helper: a user type that crosses into another process through its serialize(), for the
// tests that check arguments and results of such types.

#include <string>
#include <vector>

namespace weft::testing
{

struct labelled
{
    std::string label;
    std::vector<int> values;
    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(label, values);
    }
};

} // namespace weft::testing
