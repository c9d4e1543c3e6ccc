// A plug-in: a shared library the test does not link but loads with dlopen(), so that a fresh
// executable (spawn, the fork server's children) has not loaded it.
extern "C" int weft_test_plugin_square(int x)
{
    return x * x;
}
