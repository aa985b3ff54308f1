// Output-directory lock (see fer/core/dir_lock.hpp).
#include "fer/core/dir_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>

#include "fer/core/error.hpp"

namespace fer {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLockName = ".fer.lock";

bool alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

/// The holder's record in the lock file: "PID WHAT".
std::string read_record(int fd) {
  char buf[256] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

DirLock::DirLock(const std::string& dir, const std::string& what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  FER_CHECK(!ec, IoError, "{}: cannot create the directory: {}", dir, ec.message());
  const std::string path = (fs::path(dir) / kLockName).string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  FER_CHECK(fd_ >= 0, IoError, "{}: cannot open the lock file: {}", path, std::strerror(errno));
  const std::string previous = read_record(fd_);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw UsageError(fmt::format(
          "{}: another process is writing there ({}); wait for it to end, stop it, or choose another "
          "directory",
          dir, previous.empty() ? "its record is empty" : "pid " + previous));
    }
    throw IoError(fmt::format("{}: cannot lock: {}", path, std::strerror(err)));
  }
  // Ours now. A record left behind names a process that ended without releasing it cleanly
  // (kill -9, a crash): its lock died with it.
  if (!previous.empty()) {
    const long pid = std::strtol(previous.c_str(), nullptr, 10);
    if (pid != ::getpid()) {  // its flock is gone, so it is: only the record stayed
      spdlog::warn("{}: taking over the lock of process {}, which ended without releasing it", dir, previous);
    }
  }
  const std::string record = fmt::format("{} {}", ::getpid(), what);
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t n = ::pwrite(fd_, record.data(), record.size(), 0);
  }
  // Temporary files of writers that died: NAME.tmp.PID of a dead PID, and NAME.partial (only
  // the lock holder writes those, and no holder is running).
  static const std::regex tmp_name(R"(.*\.tmp\.(\d+))");
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    const std::string name = e.path().filename().string();
    std::smatch m;
    // a PID too long for a long (a name that only looks like ours) parses as 0: not alive
    const bool stale_tmp = std::regex_match(name, m, tmp_name) && !alive(std::strtol(m[1].str().c_str(), nullptr, 10) == LONG_MAX ? 0 : std::strtol(m[1].str().c_str(), nullptr, 10));
    const bool partial = name.size() > 8 && name.compare(name.size() - 8, 8, ".partial") == 0;
    if ((stale_tmp || partial) && fs::remove(e.path(), ec)) {
      ++removed_;
      spdlog::info("{}: removed {}, left by a writer that was stopped", dir, name);
    }
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) {
    if (::ftruncate(fd_, 0) != 0) {  // a clean end leaves no record to take over
    }
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

}  // namespace fer
