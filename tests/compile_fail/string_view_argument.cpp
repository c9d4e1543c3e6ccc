// A std::string_view points into the sender's memory: under spawn and forkserver it would
// arrive dangling, so it is refused under every start method.
#include <string>
#include <string_view>
#include <weft/weft.hpp>

void use(std::string_view) {}

int main()
{
    std::string s = "text";
    weft::process p(use, std::string_view(s));
}
