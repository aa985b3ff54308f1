#pragma once
// The library's one worker pool and one progress line (no torch).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

namespace fer {

/// Runs fn(i, worker) for every i in [0, n) on `threads` threads (0 = all cores, at most n; the
/// caller's thread is worker 0, so 1 thread runs everything in place). Indices are handed out in
/// increasing order, each once; `worker` (0..threads-1) lets fn keep per-thread state.
/// When fn throws, no further index starts, the running ones finish, and the exception of the
/// LOWEST failing index is rethrown: the same error whatever the thread count or timing (every
/// lower index was already handed out and runs to its end). When `stop` is set, no further
/// index starts and parallel_for returns normally. Returns the number of threads used.
int parallel_for(size_t n, int threads, const std::function<void(size_t i, int worker)>& fn,
                 const std::atomic<bool>* stop = nullptr);

/// One self-updating status line on stderr ("aligned 120/500", a training epoch's bar), drawn
/// only when `enabled` and stderr is a terminal: logs and pipes never get carriage returns.
/// Redraws at most every `min_interval` (the final state always). Thread-safe.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled, std::chrono::milliseconds min_interval = std::chrono::milliseconds(200));
  ~ProgressLine();  ///< clears the line if still drawn
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  bool enabled() const { return enabled_; }
  /// Replaces the line with `text` (skipped when the last draw is younger than min_interval,
  /// unless `force`).
  void show(const std::string& text, bool force = false);
  /// Ends the line: `keep` leaves the last text on screen followed by a newline, else it is erased.
  void finish(bool keep);

 private:
  bool enabled_;
  std::chrono::milliseconds min_interval_;
  std::mutex mutex_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

/// True when stderr is a terminal.
bool stderr_is_terminal();

}  // namespace fer
