#include "fer/core/parallel.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <limits>
#include <thread>
#include <vector>

#include "fer/core/cpu.hpp"

namespace fer {

int parallel_for(size_t n, int threads, const std::function<void(size_t i, int worker)>& fn,
                 const std::atomic<bool>* stop) {
  const int workers = static_cast<int>(std::clamp<size_t>(static_cast<size_t>(threads_or_all(threads)), 1,
                                                          std::max<size_t>(1, n)));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  size_t error_index = std::numeric_limits<size_t>::max();
  std::exception_ptr error;
  const auto work = [&](int worker) {
    while (!failed.load() && !(stop != nullptr && stop->load())) {
      const size_t i = next.fetch_add(1);
      if (i >= n) break;
      try {
        fn(i, worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (i < error_index) {
          error_index = i;
          error = std::current_exception();
        }
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers - 1));
  for (int t = 1; t < workers; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return workers;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressLine::ProgressLine(bool enabled, std::chrono::milliseconds min_interval)
    : enabled_(enabled && stderr_is_terminal()), min_interval_(min_interval) {}

ProgressLine::~ProgressLine() { finish(false); }

void ProgressLine::show(const std::string& text, bool force) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (!force && drawn_ && now - last_ < min_interval_) return;
  last_ = now;
  drawn_ = true;
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
}

void ProgressLine::finish(bool keep) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!drawn_) return;
  std::fputs(keep ? "\n" : "\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace fer
