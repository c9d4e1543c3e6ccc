// A trivially copyable class with private members cannot be looked inside: weft asks for a
// serializer or a weft::ship_bytewise specialization instead of guessing that it holds no
// pointer (this one does).
#include <weft/weft.hpp>

class cursor
{
  public:
    explicit cursor(const int* at) noexcept : m_at(at) {}
    [[nodiscard]] int value() const noexcept { return *m_at; }

  private:
    const int* m_at;
};

int use(cursor c)
{
    return c.value();
}

int main()
{
    static const int x = 1;
    weft::process_pool_executor pool({.max_workers = 1});
    (void)pool.submit(use, cursor(&x));
}
