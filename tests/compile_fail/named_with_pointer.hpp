#pragma once
// A trivially copyable struct whose bytes hold a pointer into the sender's memory, and a
// function that takes one: what the pointer-field cases try to ship.

struct named
{
    int id;
    const char* name;
};

inline int id_of(named n)
{
    return n.id;
}
