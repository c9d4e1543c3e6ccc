#pragma once
// The call most executor tests submit: cheap, pure, and its result checked at a glance.

namespace weft::testing
{

inline int square(int x)
{
    return x * x;
}

} // namespace weft::testing
