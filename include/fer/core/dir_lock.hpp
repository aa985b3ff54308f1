// One writer per output directory: an advisory lock (flock on DIR/.fer.lock) held for the
// life of the object. A second fer process on the same run, k-fold or align directory is
// refused with a message naming the holder; a lock left by a dead process is free (the
// kernel drops flock locks with their process) and is taken over with a warning. The holder
// also removes the temporary files (NAME.tmp.PID, NAME.partial) a killed writer left there.
#pragma once

#include <string>

namespace fer {

class DirLock {
 public:
  /// Creates `dir` when needed and locks it; `what` names the writer in messages ("fer train").
  /// Throws UsageError when another live process holds the lock, IoError when it cannot lock.
  DirLock(const std::string& dir, const std::string& what);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

  /// Temporary files of dead writers removed when the lock was taken.
  int removed_temporaries() const { return removed_; }

 private:
  int fd_ = -1;
  int removed_ = 0;
};

}  // namespace fer
