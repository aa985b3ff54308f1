#pragma once
// Error hierarchy. The library throws; only the app maps errors to exit codes
// (0 ok, 1 runtime failure, 2 bad usage or config).
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace fer {

/// Base of every error fer throws on purpose. The message is complete and user-facing.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  /// Exit code the CLI uses for this error.
  virtual int exit_code() const { return 1; }
};

/// A config file or --set override is wrong (exit 2).
class ConfigError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
};

/// The command line is wrong (exit 2).
class UsageError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
};

/// A dataset file has content we cannot use (exit 1).
class DataError : public Error {
 public:
  using Error::Error;
};

/// A file cannot be read or written (exit 1).
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace fer

/// Throws ErrType with a formatted message when cond is false. For input validation:
/// unlike assert it does not vanish in release builds.
#define FER_CHECK(cond, ErrType, ...)                   \
  do {                                                  \
    if (!(cond)) throw ErrType(::fmt::format(__VA_ARGS__)); \
  } while (0)
