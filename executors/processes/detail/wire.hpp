#pragma once
// The bytes that travel between processes: cereal's binary archives over a std::string (or a
// pool task's message_bytes), with a memcpy fast path for bytewise_shippable values and vectors
// of them (a type with a cereal serializer of its own always goes through it).

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>
#include <cstddef>
#include <cstring>
#include <istream>
#include <new>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "executors/processes/shippable.hpp"

namespace weft::detail
{

/// Appends everything written to it to a std::string (or a pool task's message_bytes).
template <class String>
class string_sink : public std::streambuf
{
  public:
    explicit string_sink(String& out) noexcept : m_out(out) {}

  protected:
    std::streamsize xsputn(const char* s, std::streamsize n) override
    {
        m_out.append(s, static_cast<std::size_t>(n));
        return n;
    }
    int_type overflow(int_type c) override
    {
        if (!traits_type::eq_int_type(c, traits_type::eof()))
        {
            m_out.push_back(traits_type::to_char_type(c));
        }
        return traits_type::not_eof(c);
    }

  private:
    String& m_out;
};

/// Reads a byte range it does not own.
class bytes_source : public std::streambuf
{
  public:
    explicit bytes_source(std::string_view bytes) noexcept
    {
        char* begin = const_cast<char*>(bytes.data()); // read only: setg wants char*
        setg(begin, begin, begin + bytes.size());
    }
};

/// A cereal binary output archive that appends to `out`.
template <class String = std::string>
class wire_writer
{
  public:
    explicit wire_writer(String& out) : m_sink(out), m_stream(&m_sink), m_archive(m_stream) {}
    cereal::BinaryOutputArchive& archive() noexcept { return m_archive; }

  private:
    string_sink<String> m_sink;
    std::ostream m_stream;
    cereal::BinaryOutputArchive m_archive;
};

/// A cereal binary input archive over `bytes`; a short read throws cereal::Exception.
class wire_reader
{
  public:
    explicit wire_reader(std::string_view bytes)
        : m_source(bytes), m_stream(&m_source), m_archive(m_stream)
    {
    }
    cereal::BinaryInputArchive& archive() noexcept { return m_archive; }

  private:
    bytes_source m_source;
    std::istream m_stream;
    cereal::BinaryInputArchive m_archive;
};

/// A wire_writer made on first use: a message of trivially copyable values only is written with
/// plain appends and never builds the stream. Appends to the string and writes through the
/// archive may interleave (string_sink keeps no buffer).
template <class String = std::string>
class lazy_wire_writer
{
  public:
    explicit lazy_wire_writer(String& out) noexcept : m_out(out) {}
    String& bytes() noexcept { return m_out; }
    cereal::BinaryOutputArchive& archive()
    {
        if (!m_writer)
        {
            m_writer.emplace(m_out);
        }
        return m_writer->archive();
    }

  private:
    String& m_out;
    std::optional<wire_writer<String>> m_writer;
};

/// Reads trivially copyable values straight out of a byte range, as save_value wrote them.
class raw_reader
{
  public:
    explicit raw_reader(std::string_view bytes) noexcept : m_bytes(bytes) {}

    template <class T>
    T take()
    {
        static_assert(bytewise_shippable<T>);
        if (m_bytes.size() < sizeof(T))
        {
            throw std::length_error("weft: a message ended before its values");
        }
        alignas(T) std::byte storage[sizeof(T)];
        std::memcpy(storage, m_bytes.data(), sizeof(T));
        m_bytes.remove_prefix(sizeof(T));
        return *std::launder(reinterpret_cast<T*>(storage));
    }
    /// What has not been read.
    [[nodiscard]] std::string_view rest() const noexcept { return m_bytes; }

  private:
    std::string_view m_bytes;
};

/// Appends a trivially copyable value's bytes, exactly as save_value does.
template <class T, class String>
void append_raw(String& out, const T& value)
{
    static_assert(bytewise_shippable<T>);
    out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// A serializer the user wrote is asked before anything else: it is their word on what the
// value is, even for a trivially copyable type (one holding a pointer, whose bytes would dangle
// in another process, or one that leaves a cache out).

template <class T>
void save_value(cereal::BinaryOutputArchive& archive, const T& value)
{
    if constexpr (serialized_by_user<T>)
    {
        archive(value);
    }
    else if constexpr (bytewise_shippable<T>)
    {
        archive(cereal::binary_data(&value, sizeof value));
    }
    else if constexpr (is_byte_vector<T>::value)
    {
        const std::uint64_t size = value.size();
        archive(size);
        archive(cereal::binary_data(value.data(), size * sizeof(typename T::value_type)));
    }
    else
    {
        archive(value);
    }
}

/// Writes `value` the way load_value<T> reads it: plain bytes for trivially copyable types.
template <class T, class String>
void save_value(lazy_wire_writer<String>& writer, const T& value)
{
    if constexpr (!serialized_by_user<T> && bytewise_shippable<T>)
    {
        append_raw(writer.bytes(), value);
    }
    else
    {
        save_value(writer.archive(), value);
    }
}

/// Loads through cereal, into an unloaded handle where T has one (its default constructor
/// does real work) or a default-constructed T.
template <class T>
T load_with_cereal(cereal::BinaryInputArchive& archive)
{
    if constexpr (std::is_constructible_v<T, unloaded_t>)
    {
        T value(unloaded);
        archive(value);
        return value;
    }
    else
    {
        T value{};
        archive(value);
        return value;
    }
}

template <class T>
T load_value(cereal::BinaryInputArchive& archive)
{
    if constexpr (serialized_by_user<T>)
    {
        return load_with_cereal<T>(archive);
    }
    else if constexpr (bytewise_shippable<T>)
    {
        // Copying the bytes into suitably aligned storage creates the object (trivially
        // copyable types are implicit-lifetime types), with no default constructor needed.
        alignas(T) std::byte storage[sizeof(T)];
        archive(cereal::binary_data(storage, sizeof storage));
        return *std::launder(reinterpret_cast<T*>(storage));
    }
    else if constexpr (is_byte_vector<T>::value)
    {
        std::uint64_t size = 0;
        archive(size);
        T value(size);
        archive(cereal::binary_data(value.data(), size * sizeof(typename T::value_type)));
        return value;
    }
    else
    {
        return load_with_cereal<T>(archive);
    }
}

} // namespace weft::detail
