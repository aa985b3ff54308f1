#include "interrupt.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

namespace fer::app {
namespace {
std::atomic<bool>* g_flag = nullptr;
volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_stop_signal(int sig) {
  if (g_signal == 0) g_signal = sig;
  if (g_flag) g_flag->store(true);  // lock-free atomic: async-signal-safe
}
}  // namespace

void catch_stop_signals(std::atomic<bool>& stop) {
  static_assert(std::atomic<bool>::is_always_lock_free, "the stop flag is set from a signal handler");
  g_flag = &stop;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int stop_signal() { return g_signal; }

int exit_by_stop_signal() {
  const int sig = g_signal;
  spdlog::shutdown();  // flush train.log and the other file sinks: raise() runs no destructors
  std::fflush(nullptr);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
  return 128 + sig;
}

}  // namespace fer::app
