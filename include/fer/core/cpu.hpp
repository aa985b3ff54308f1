#pragma once
// How many threads "all cores" means: the one place that reads std::thread::hardware_concurrency,
// which may return 0 when the count is unknown.

namespace fer {

/// The number of hardware threads, at least 1.
int cpu_count();
/// `requested` when it is positive, else cpu_count(): the rule of every threads/workers option.
inline int threads_or_all(int requested) { return requested > 0 ? requested : cpu_count(); }

}  // namespace fer
