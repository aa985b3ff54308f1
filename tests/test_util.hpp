#pragma once
// Helpers shared by the test suites.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

namespace fer::test {

/// A fresh temporary directory, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;  // test-only: unique names, not part of any pipeline
    path_ = std::filesystem::temp_directory_path() /
            ("fer_test_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str(const std::string& child = "") const {
    return child.empty() ? path_.string() : (path_ / child).string();
  }

 private:
  std::filesystem::path path_;
};

/// Path of a file in ../shared/data, or "" when it is absent (tests then GTEST_SKIP).
inline std::string shared_data(const std::string& rel) {
  std::filesystem::path p = std::filesystem::path(FER_SHARED_DATA) / rel;
  return std::filesystem::exists(p) ? p.string() : std::string();
}

/// The error message of `fn`, which must throw `Err` (a test failure otherwise).
template <typename Err, typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Err& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no exception thrown";
  return {};
}

}  // namespace fer::test

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << (msg)

// `rel` must be a string literal (it is pasted into the message), hence no parentheses around it.
#define FER_REQUIRE_SHARED(var, rel)                                                    \
  const std::string var = ::fer::test::shared_data(rel);                                \
  if (var.empty()) GTEST_SKIP() << "../shared/data/" rel " is absent: real-data test skipped"  // NOLINT(bugprone-macro-parentheses)
