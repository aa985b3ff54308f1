// fer: facial expression recognition toolkit. Parses the command line, runs one subcommand,
// maps errors to exit codes (0 ok, 1 runtime failure, 2 bad usage or config). A command stopped
// by Ctrl-C or SIGTERM keeps its files and then ends by that signal (a shell sees 130 or 143).
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "fer/core/allocator.hpp"
#include "fer/core/error.hpp"
#include "fer/core/image_limits.hpp"
#include "fer/core/version.hpp"
#include "fer/train/runtime.hpp"
#include "interrupt.hpp"

int main(int argc, char** argv) {
  fer::tune_allocator();
  CLI::App app{"fer: train, evaluate and run facial expression recognition models"};
  app.set_version_flag("--version", std::string("fer ") + fer::version() + " (" + fer::git_commit() + ", " +
                                        fer::train::library_versions() + ")");
  int verbose = 0;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "More log output");
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors");
  double max_megapixels = 0;
  app.add_option("--max-megapixels", max_megapixels,
                 "Refuse images and video frames larger than this, from their header before decoding "
                 "(default 50, or FER_MAX_MEGAPIXELS)")
      ->check(CLI::Range(0.001, 1e6));
  app.require_subcommand(1);
  app.fallthrough();
  std::vector<std::pair<CLI::App*, fer::app::Runner>> commands;
  for (auto add : {fer::app::add_synth, fer::app::add_train, fer::app::add_eval, fer::app::add_kfold,
                   fer::app::add_infer, fer::app::add_align, fer::app::add_list, fer::app::add_bench,
                   fer::app::add_import, fer::app::add_export}) {
    auto runner = add(app);
    commands.emplace_back(app.get_subcommands({}).back(), runner);
  }
  // "fer frobnicate": name the unknown command (CLI11 would only say one is required).
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (auto& [sub, run] : commands) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::fprintf(stderr, "error: unknown command \"%s\"; the commands are %s (fer --help)\n", argv[1],
                   fmt::format("{}", fmt::join(names, ", ")).c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  fer::app::setup_logging(quiet ? -1 : verbose);
  try {
    // The pixel guard of every image reader; also exported to child processes and OpenCV.
    fer::io::set_max_image_pixels(max_megapixels > 0 ? static_cast<int64_t>(max_megapixels * 1e6)
                                                     : fer::io::max_image_pixels());
    for (auto& [sub, run] : commands) {
      if (!sub->parsed()) continue;
      const int rc = run();
      return fer::app::stop_signal() != 0 ? fer::app::exit_by_stop_signal() : rc;
    }
    return 2;
  } catch (const fer::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    fer::app::log_error_to_files(e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::string what = e.what();
    const auto nl = what.find("\nException raised from");  // drop LibTorch's C++ backtrace
    if (nl != std::string::npos) what.resize(nl);
    std::fprintf(stderr, "error: %s\n", what.c_str());
    fer::app::log_error_to_files(what);
    return 1;
  }
}
