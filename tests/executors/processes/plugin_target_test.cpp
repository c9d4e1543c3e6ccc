// A target from a library the program loaded with dlopen() (a plug-in), sent to pool workers
// and to a process under the three start methods. A fork child has the library already; a
// spawned child, or one of the fork server, is a fresh run of the executable without it, and
// weft loads it there from the path the parent found it at (as Python's unpickling imports
// the module a function came from).
#define BOOST_TEST_MODULE plugin_target
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <string>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/process_checks.hpp"
#include "support/process_pool_tests.hpp"

using namespace std::chrono_literals;

namespace
{

using square_fn = int (*)(int);

square_fn load_plugin()
{
    const char* path = std::getenv("WEFT_TEST_PLUGIN");
    BOOST_TEST_REQUIRE(path != nullptr);
    void* library = ::dlopen(path, RTLD_NOW | RTLD_LOCAL);
    BOOST_TEST_REQUIRE(library != nullptr);
    auto square = reinterpret_cast<square_fn>(::dlsym(library, "weft_test_plugin_square"));
    BOOST_TEST_REQUIRE(square != nullptr);
    return square;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_target_from_a_dlopened_library_runs_under_every_start_method)
{
    const square_fn square = load_plugin();
    for (const auto method : weft::testing::all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            weft::process_pool_executor pool({.max_workers = 1, .start_method = method});
            BOOST_TEST(pool.submit(square, 7).result(30s) == 49);
            // A child that could not find its target would exit with 1.
            weft::process child({.start_method = method}, square, 6);
            child.start();
            BOOST_TEST(child.join(30s));
            BOOST_TEST(weft::testing::exit_of(child) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_library_that_cannot_be_loaded_is_a_clear_error)
{
    // The parent's library is gone by the time the child looks for it: a copy is loaded from
    // a temporary path, which is removed before the pool's worker starts.
    const char* path = std::getenv("WEFT_TEST_PLUGIN");
    BOOST_TEST_REQUIRE(path != nullptr);
    const std::string copy = "/tmp/weft_plugin_copy_" + std::to_string(::getpid()) + ".so";
    BOOST_TEST_REQUIRE(std::system(("cp '" + std::string(path) + "' '" + copy + "'").c_str()) == 0);
    void* library = ::dlopen(copy.c_str(), RTLD_NOW | RTLD_LOCAL);
    BOOST_TEST_REQUIRE(library != nullptr);
    auto square = reinterpret_cast<square_fn>(::dlsym(library, "weft_test_plugin_square"));
    std::remove(copy.c_str());
    weft::process_pool_executor pool({.max_workers = 1, .start_method = weft::start_method::spawn});
    BOOST_CHECK_EXCEPTION((void)pool.submit(square, 3).result(30s), std::exception,
                          [&](const std::exception& e)
                          {
                              BOOST_TEST_MESSAGE(e.what());
                              return std::string(e.what()).find(copy) != std::string::npos;
                          });
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
