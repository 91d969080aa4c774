// A value or an error, without exceptions. C++20 has no std::expected, so this is the small subset we use.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace sw {

template <typename E>
struct Unexpected {
    E error;
};

template <typename E>
Unexpected<E> unexpected(E e) {
    return Unexpected<E>{std::move(e)};
}

template <typename T, typename E>
class Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    template <typename U>
    requires std::is_convertible_v<U, E> Result(Unexpected<U> e)
        : v_(std::in_place_index<1>, E(std::move(e.error))) {}  // NOLINT

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & {
        assert(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(v_));
    }
    const E& error() const {
        assert(!has_value());
        return std::get<1>(v_);
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, E> v_;
};

}  // namespace sw
