#pragma once
// Result<T>: a value or a ParseError (C++20 has no std::expected). No
// exceptions, no allocation. T must be default-constructible; it holds the
// value when ok() and a default T otherwise. Reading value() of an error
// result is a precondition violation (asserted in debug builds).
#include <cassert>
#include <type_traits>
#include <utility>

#include "wire/parse_error.hpp"

namespace synmill::wire {

template <class T>
class [[nodiscard]] Result {
  static_assert(std::is_default_constructible_v<T>);

 public:
  constexpr Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  constexpr Result(ParseError error) : error_(error), ok_(false) {}  // NOLINT

  constexpr bool ok() const { return ok_; }
  constexpr explicit operator bool() const { return ok_; }

  constexpr const T& value() const& {
    assert(ok_);
    return value_;
  }
  constexpr T& value() & {
    assert(ok_);
    return value_;
  }
  constexpr const T& operator*() const& { return value(); }
  constexpr const T* operator->() const { return &value(); }

  // Meaningful only when !ok().
  constexpr ParseError error() const {
    assert(!ok_);
    return error_;
  }

  constexpr T value_or(T fallback) const { return ok_ ? value_ : fallback; }

 private:
  T value_{};
  ParseError error_ = ParseError::kCount;
  bool ok_ = true;
};

}  // namespace synmill::wire
