#define BOOST_TEST_MODULE event_loop
#include <boost/test/unit_test.hpp>
BOOST_AUTO_TEST_CASE(placeholder_replaced_below)
{
    BOOST_TEST(true);
}
