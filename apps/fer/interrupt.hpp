#pragma once
// Ctrl-C and SIGTERM for the long commands (train, kfold, align). The first signal only sets the
// command's stop flag: the command finishes its step, keeps its files (last.pt, finished folds,
// aligned images) and returns. main() then ends the process by that same signal, as the Unix
// convention asks, so a calling shell script or make stops too: with a plain exit code bash
// assumes the child handled the signal and runs the script's next command.
#include <atomic>

namespace fer::app {

/// Installs the SIGINT and SIGTERM handlers that set `stop` and remember the signal.
void catch_stop_signals(std::atomic<bool>& stop);
/// The signal that stopped the command, 0 if none came.
int stop_signal();
/// Flushes the logs and ends the process by stop_signal() (exit status 128 + signal for a
/// waiting shell). Returns 128 + signal only if the signal somehow does not end the process.
int exit_by_stop_signal();

}  // namespace fer::app
