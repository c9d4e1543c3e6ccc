// A target defined in a shared library that this test links, sent to a weft::process and to
// pool workers under the three start methods. Spawn runs the executable afresh (and so does the
// fork server), where the library may load at another address than in the parent: the target
// travels as (library, offset), not as an address.
#define BOOST_TEST_MODULE shared_library_target
#define BOOST_TEST_NO_MAIN
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/processes/detail/code_address.hpp"
#include "executors/processes/shared_library_target.hpp"
#include "support/process_checks.hpp"
#include "support/process_pool_tests.hpp"
#include "support/scratch_file.hpp"

using weft::process;
using weft::testing::cube_in_a_library;
using weft::testing::exit_of;
using weft::testing::library_code_address;
using weft::testing::scratch_file;
using weft::testing::write_cube_in_a_library;

// What the test relies on: this executable names the target by the library's address, not by
// a stub of its own (a non-PIE executable's PLT entry would be found in the executable itself
// and the library would never be looked up).
BOOST_AUTO_TEST_CASE(the_target_is_named_by_its_library)
{
    const auto where =
        weft::detail::locate_code(reinterpret_cast<std::uintptr_t>(&cube_in_a_library));
    BOOST_TEST(where.module.find("libweft_test_shared_target") != std::string::npos, where.module);
    BOOST_TEST(weft::detail::resolve_code(where) ==
               reinterpret_cast<std::uintptr_t>(&cube_in_a_library));
}

BOOST_AUTO_TEST_CASE(a_process_runs_a_target_from_a_shared_library_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            scratch_file out;
            process p({.start_method = method}, write_cube_in_a_library, out.path(), 3);
            p.start();
            p.join(patience);
            BOOST_TEST(exit_of(p) == 0);
            BOOST_TEST(out.read() == "27");
        }
    }
}

BOOST_AUTO_TEST_CASE(pool_workers_run_a_target_from_a_shared_library_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor executor({.max_workers = 2, .start_method = method});
            BOOST_TEST(executor.submit(cube_in_a_library, 4).result(patience) == 64);
            // Where the library is in a worker: elsewhere than here after an exec, with ASLR.
            const std::uintptr_t there = executor.submit(library_code_address).result(patience);
            BOOST_TEST(there != 0U);
            BOOST_TEST_MESSAGE(
                weft::to_string(method)
                << ": the library's code is "
                << (there == library_code_address() ? "at the same address" : "elsewhere")
                << " in a worker");
            std::vector<int> got;
            for (int v :
                 executor.map(cube_in_a_library, std::vector<int>{1, 2, 3, 4, 5}, {.chunksize = 2}))
            {
                got.push_back(v);
            }
            BOOST_TEST(got == (std::vector<int>{1, 8, 27, 64, 125}),
                       boost::test_tools::per_element());

            weft::pool p({.max_workers = 2, .start_method = method});
            BOOST_TEST(p.map(cube_in_a_library, std::vector<int>{2, 3}) ==
                           (std::vector<int>{8, 27}),
                       boost::test_tools::per_element());
            BOOST_TEST(p.apply_async(cube_in_a_library, std::tuple{5}).result(patience) == 125);
        }
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
