// Errors as values: a Status with a fixed set of kinds, and Result<T> = value or Status.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace kiln::base {

enum class ErrorKind {
  kOk,
  kInvalidInput,  // the user's file or argument is wrong (exit 2)
  kNotFound,      // a named thing does not exist
  kFailed,        // the work ran and did not succeed (exit 1)
  kUnsupported,   // understood, but Kiln does not do it (yet)
  kIo,            // the OS refused a call
  kInternal,      // a bug or an impossible state (exit 70)
};

// A Status is ok, or a kind with a one-line message. Cheap to copy when ok.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return kind_ == ErrorKind::kOk; }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

 private:
  ErrorKind kind_ = ErrorKind::kOk;
  std::string message_;
};

inline Status InvalidInput(std::string m) { return {ErrorKind::kInvalidInput, std::move(m)}; }
inline Status NotFound(std::string m) { return {ErrorKind::kNotFound, std::move(m)}; }
inline Status Unsupported(std::string m) { return {ErrorKind::kUnsupported, std::move(m)}; }
inline Status Internal(std::string m) { return {ErrorKind::kInternal, std::move(m)}; }
// An OS call failed: message is "<what>: <strerror(err)>".
Status IoError(const std::string& what, int err);

// Result<T> holds a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be ok

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const { return std::get<Status>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kiln::base
