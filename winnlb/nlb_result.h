#pragma once
// A value or a sentence saying what was wrong with the input. The pure parts of winnlb
// (command building, output parsing, frame decoding) return this instead of throwing, so
// garbage from a command or the wire becomes a logged error, never a crash.
#include <optional>
#include <string>
#include <utility>

namespace rmha::winnlb {

template <class T>
class [[nodiscard]] Parsed {
public:
  static Parsed ok(T value) { return Parsed(std::move(value), {}); }
  static Parsed fail(std::string error) { return Parsed(std::nullopt, std::move(error)); }

  bool hasValue() const { return value_.has_value(); }
  explicit operator bool() const { return hasValue(); }
  /// The value; only valid when hasValue().
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T* operator->() const { return &*value_; }
  /// Why there is no value ("" when there is one).
  const std::string& error() const { return error_; }

private:
  Parsed(std::optional<T> v, std::string e) : value_(std::move(v)), error_(std::move(e)) {}
  std::optional<T> value_;
  std::string error_;
};

} // namespace rmha::winnlb
