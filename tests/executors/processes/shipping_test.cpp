#define BOOST_TEST_MODULE shipping
#define BOOST_TEST_NO_MAIN
// What crosses into another process as its bytes and what through its serializer: a trivially
// copyable type holding a pointer arrives through its save()/load() under every start method
// (its bytes would dangle under spawn and forkserver), a serializer of a trivially copyable
// type is used rather than its bytes, and weft::ship_bytewise sends a class weft cannot look
// inside as its bytes. What is refused at compile time: tests/compile_fail/.
#include <array>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/processes/pool_test_support.hpp"
#include "support/process_checks.hpp"
#include "support/scratch_file.hpp"

using weft::process;
using weft::process_pool_executor;
using weft::start_method;
using weft::test::all_methods;
using weft::test::patience;
using weft::testing::exit_of;
using weft::testing::scratch_file;

namespace
{

/// Where a loaded text_ref points: text this process keeps until it exits (a deque never moves
/// its elements). Loads run on the pool's collector and waiting threads at once.
const std::string& keep(std::string text)
{
    static std::mutex lock;
    static std::deque<std::string> kept;
    const std::scoped_lock held(lock);
    return kept.emplace_back(std::move(text));
}

/// A view of text that travels as the text: trivially copyable, so only its save() and load()
/// keep its pointer from arriving as an address in the sender's memory.
struct text_ref
{
    const char* data = nullptr;
    std::size_t size = 0;

    [[nodiscard]] std::string_view view() const { return {data, size}; }

    template <class Archive>
    void save(Archive& archive) const
    {
        archive(std::string(view()));
    }
    template <class Archive>
    void load(Archive& archive)
    {
        std::string text;
        archive(text);
        const std::string& kept = keep(std::move(text));
        data = kept.data();
        size = kept.size();
    }
};
static_assert(std::is_trivially_copyable_v<text_ref>);
static_assert(!weft::bytewise_shippable<text_ref>);
static_assert(weft::shippable<text_ref>);

/// Trivially copyable and pointer-free, but its serialize() leaves the cache out: the cache must
/// arrive empty, as the serializer says, not as the sender's bytes.
struct cached
{
    int value = 0;
    int cache = 0;

    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(value);
    }
};
static_assert(!weft::bytewise_shippable<cached>);

/// A class weft cannot look inside (private members, a constructor), sent as its bytes on the
/// word of its weft::ship_bytewise specialization.
class opaque
{
  public:
    explicit opaque(int value) noexcept : m_value(value), m_twice(2 * value) {}
    [[nodiscard]] bool consistent() const noexcept { return m_twice == 2 * m_value; }
    [[nodiscard]] int value() const noexcept { return m_value; }

  private:
    int m_value;
    int m_twice;
};

// What stays bytes and what does not, checked where the rules are documented to hold.
struct sample
{
    int id;
    char name[16];
    std::array<double, 3> where;
    std::chrono::milliseconds timeout;
    std::optional<int> limit;
    std::byte flags;
};
struct with_text_pointer
{
    int id;
    const char* name;
};
struct nested_view
{
    sample s;
    struct
    {
        std::string_view name;
    } inner;
};
struct with_reference
{
    const int& value;
};
static_assert(weft::bytewise_shippable<sample>);
static_assert(weft::bytewise_shippable<std::array<sample, 2>>);
static_assert(!weft::bytewise_shippable<with_text_pointer> && !weft::shippable<with_text_pointer>);
static_assert(!weft::bytewise_shippable<nested_view> && !weft::shippable<nested_view>);
static_assert(!weft::bytewise_shippable<with_reference>);
static_assert(!weft::shippable<std::string_view> && !weft::shippable<std::span<const int>>);
static_assert(!weft::bytewise_shippable<std::vector<int>::iterator>);

} // namespace

template <>
struct weft::ship_bytewise<opaque> : std::true_type
{
};
static_assert(weft::bytewise_shippable<opaque>);

namespace
{

void write_text(std::string path, text_ref text)
{
    std::ofstream(path) << text.view();
}

text_ref shout(text_ref text)
{
    std::string loud(text.view());
    for (char& c : loud)
    {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    const std::string& kept = keep(std::move(loud));
    return {kept.data(), kept.size()};
}

std::size_t length(text_ref text)
{
    return text.view().size();
}

cached bump(cached c)
{
    return {c.value + 1, c.cache + 1000};
}

opaque doubled(opaque o)
{
    return o.consistent() ? opaque(2 * o.value()) : opaque(-1);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_pointer_with_save_and_load_reaches_a_process_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            // Longer than the small-string buffer: the text lives on the parent's heap.
            const std::string text = "a text that only the parent's memory holds";
            scratch_file out;
            process p({.start_method = method}, write_text, out.path(),
                      text_ref{text.data(), text.size()});
            p.start();
            p.join();
            BOOST_TEST(exit_of(p) == 0);
            BOOST_TEST(out.read() == text);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_pointer_with_save_and_load_is_a_pool_argument_and_result)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            const std::string text = "quiet words from the parent process";
            auto loud = pool.submit(shout, text_ref{text.data(), text.size()});
            BOOST_TEST(loud.result(patience).view() == "QUIET WORDS FROM THE PARENT PROCESS");

            // A chunked map carries them through its records too.
            std::vector<std::string> texts;
            std::vector<text_ref> refs;
            for (int i = 0; i < 40; ++i)
            {
                texts.push_back(std::string(static_cast<std::size_t>(i), 'x') + " and some");
            }
            for (const std::string& t : texts)
            {
                refs.push_back({t.data(), t.size()});
            }
            std::size_t i = 0;
            for (std::size_t n : pool.map(length, refs, {.chunksize = 7}))
            {
                BOOST_TEST(n == texts[i].size());
                ++i;
            }
            BOOST_TEST(i == texts.size());
            std::size_t j = 0;
            for (text_ref r : pool.map(shout, refs, {.chunksize = 5}))
            {
                BOOST_TEST(r.view() == shout(refs[j]).view());
                ++j;
            }
            BOOST_TEST(j == refs.size());
        }
    }
}

namespace
{

/// A value whose serializer throws: saving -1, or loading -2.
struct fragile
{
    int value = 0;

    template <class Archive>
    void save(Archive& archive) const
    {
        if (value == -1)
        {
            throw std::invalid_argument("fragile: cannot save -1");
        }
        archive(value);
    }
    template <class Archive>
    void load(Archive& archive)
    {
        archive(value);
        if (value == -2)
        {
            throw std::invalid_argument("fragile: cannot load -2");
        }
    }
};

int unwrap(fragile f)
{
    return f.value;
}

fragile wrap(int value)
{
    return fragile{value};
}

// What a call's future says, or the exception it fails with.
template <class F>
std::string outcome(F&& call)
{
    try
    {
        return std::to_string(call());
    }
    catch (const std::exception& e)
    {
        return e.what();
    }
}

} // namespace

// A serializer that throws, on either side and in either direction, fails that call alone
// with its exception; the worker lives on and the pool goes on.
BOOST_AUTO_TEST_CASE(a_serializer_that_throws_fails_only_its_call)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            const auto workers = pool.worker_pids();
            // Saving the argument, here: submit() throws, nothing was sent.
            BOOST_TEST(outcome([&] { return pool.submit(unwrap, fragile{-1}).result(patience); }) ==
                       "fragile: cannot save -1");
            // Loading the argument, in the worker.
            BOOST_TEST(outcome([&] { return pool.submit(unwrap, fragile{-2}).result(patience); }) ==
                       "fragile: cannot load -2");
            // Saving the result, in the worker.
            BOOST_TEST(outcome([&] { return pool.submit(wrap, -1).result(patience).value; }) ==
                       "fragile: cannot save -1");
            // Loading the result, here.
            BOOST_TEST(outcome([&] { return pool.submit(wrap, -2).result(patience).value; }) ==
                       "fragile: cannot load -2");
            BOOST_TEST(pool.submit(unwrap, fragile{7}).result(patience) == 7);
            BOOST_TEST(pool.submit(wrap, 8).result(patience).value == 8);
            BOOST_TEST(pool.worker_pids() == workers, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(the_serializer_of_a_trivially_copyable_type_is_used_not_its_bytes)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            // The cache is left out both ways: 99 does not arrive, the worker's 1000 does not
            // come back.
            const cached got = pool.submit(bump, cached{.value = 4, .cache = 99}).result(patience);
            BOOST_TEST(got.value == 5);
            BOOST_TEST(got.cache == 0);
            std::vector<cached> inputs(10, cached{.value = 1, .cache = 7});
            for (const cached c : pool.map(bump, inputs, {.chunksize = 3}))
            {
                BOOST_TEST(c.value == 2);
                BOOST_TEST(c.cache == 0);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(ship_bytewise_sends_a_class_weft_cannot_look_inside_as_its_bytes)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            const opaque got = pool.submit(doubled, opaque(21)).result(patience);
            BOOST_TEST(got.value() == 42);
            BOOST_TEST(got.consistent());
        }
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
