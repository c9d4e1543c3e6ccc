// Only the process that started a child can wait for it, test it or signal it through its
// process object (Python: "can only join a child process"). A fork child holds a copy of its
// parent's process objects; using one there is refused with invalid_state_error instead of
// polling a child that is not its own, or taking a lock copied in whatever state it was in.
#define BOOST_TEST_MODULE process_ownership
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <string>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../../support/process_checks.hpp"
#include "../../support/process_targets.hpp"

using namespace std::chrono_literals;

namespace
{

weft::process* g_sibling = nullptr; // started by the test process; a fork child has its copy

// Exit code: one bit per observer that was refused, as it must be, with the right message.
int use_the_sibling()
{
    int refused = 0;
    auto check = [&](int bit, auto&& use)
    {
        try
        {
            use();
        }
        catch (const weft::invalid_state_error& e)
        {
            if (std::string(e.what()).find("can only") != std::string::npos &&
                std::string(e.what()).find("a child process") != std::string::npos)
            {
                refused |= bit;
            }
        }
    };
    check(1, [] { (void)g_sibling->is_alive(); });
    check(2, [] { (void)g_sibling->exitcode(); });
    check(4, [] { (void)g_sibling->join(10ms); });
    check(8, [] { g_sibling->terminate(); });
    check(16, [] { g_sibling->close(); });
    return refused;
}

void exit_with_refusals()
{
    std::exit(use_the_sibling());
}

} // namespace

BOOST_AUTO_TEST_CASE(a_fork_child_cannot_join_test_or_signal_its_parents_child)
{
    weft::process sibling({.start_method = weft::start_method::spawn}, weft::testing::sleep_ms,
                          3000);
    sibling.start();
    g_sibling = &sibling;
    weft::process child({.start_method = weft::start_method::fork}, exit_with_refusals);
    child.start();
    BOOST_TEST(child.join(30s));
    BOOST_TEST(weft::testing::exit_of(child) == 31);
    // The parent still owns its child: it can test, signal and join it.
    BOOST_TEST(sibling.is_alive());
    sibling.terminate();
    BOOST_TEST(sibling.join(30s));
    BOOST_TEST(weft::testing::exit_of(sibling) == -SIGTERM);
    g_sibling = nullptr;
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
