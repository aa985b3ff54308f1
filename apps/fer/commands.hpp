#pragma once
// The fer subcommands. Each add_* registers a CLI11 subcommand and returns the function that
// runs it after parsing. No logic beyond argument handling lives here.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace fer::app {

using Runner = std::function<int()>;

Runner add_synth(CLI::App& app);
Runner add_train(CLI::App& app);
Runner add_eval(CLI::App& app);
Runner add_kfold(CLI::App& app);
Runner add_infer(CLI::App& app);
Runner add_align(CLI::App& app);
Runner add_list(CLI::App& app);
Runner add_bench(CLI::App& app);
Runner add_import(CLI::App& app);
Runner add_export(CLI::App& app);

/// A whole number in [lo, hi] for an option: "expected a whole number >= 1, got \"0\"", and "not
/// a number" for words (CLI11's own range checks print 300-digit bounds and call words out of range).
CLI::Validator whole_number(long long lo, long long hi = 2147483647LL);

/// Logs to stderr; `verbosity` -1 quiet, 0 normal, 1 debug.
void setup_logging(int verbosity);
/// Also logs into `path` (appending), e.g. <run>/train.log.
void add_log_file(const std::string& path);
/// Writes the error that ends the command into the log files add_log_file opened (stderr has it
/// from main), so a failed run's train.log says why it stopped.
void log_error_to_files(const std::string& what);

/// "--set a.b=v" style overrides from the common flags of train.
struct CommonRunFlags {
  std::string config;
  std::vector<std::string> sets;
  std::string out;
  std::string device;
  std::string seed;  ///< --seed as typed ("" = the config's), checked to be a uint64
  int threads = -1;
  std::string precision;  ///< --precision ("" = the config's train.precision)
  void add_to(CLI::App* sub, bool need_config);
  /// The overrides implied by --seed/--device/--threads/--precision plus the --set ones.
  std::vector<std::string> overrides() const;
};

}  // namespace fer::app
