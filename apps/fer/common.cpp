#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <memory>
#include <vector>

#include "commands.hpp"
#include "fer/train/precision.hpp"

namespace fer::app {

CLI::Validator whole_number(long long lo, long long hi) {
  const std::string range = hi == 2147483647LL ? fmt::format(">= {}", lo) : fmt::format("in {}..{}", lo, hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        size_t used = 0;
        long long v = 0;
        try {
          v = std::stoll(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size()) return fmt::format("expected a whole number {}, got \"{}\" (not a number)", range, text);
        if (v < lo || v > hi) return fmt::format("expected a whole number {}, got {}", range, text);
        return std::string();
      },
      lo == 0 && hi == 2147483647LL ? "NONNEGATIVE" : lo == 1 && hi == 2147483647LL ? "POSITIVE" : range);
}
namespace {
// The run log files opened by add_log_file, so that an error that ends the command is recorded in
// them too (main prints it on stderr only).
std::vector<std::shared_ptr<spdlog::sinks::sink>>& file_sinks() {
  static std::vector<std::shared_ptr<spdlog::sinks::sink>> sinks;
  return sinks;
}
}  // namespace

void setup_logging(int verbosity) {
  auto logger = std::make_shared<spdlog::logger>("fer", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_pattern("[%H:%M:%S] %^%l%$ %v");
  logger->set_level(verbosity < 0 ? spdlog::level::warn
                                  : verbosity > 0 ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::info);  // train.log must be complete if the run dies
  spdlog::set_default_logger(logger);
}

void add_log_file(const std::string& path) {
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
  sink->set_pattern("[%Y-%m-%d %H:%M:%S] %l %v");
  sink->set_level(spdlog::level::info);
  spdlog::default_logger()->sinks().push_back(sink);
  file_sinks().push_back(sink);
  if (spdlog::default_logger()->level() > spdlog::level::info) {
    // --quiet silences the terminal, not the run's log file.
    spdlog::default_logger()->sinks().front()->set_level(spdlog::default_logger()->level());
    spdlog::default_logger()->set_level(spdlog::level::info);
  }
}

void log_error_to_files(const std::string& what) {
  for (const auto& sink : file_sinks()) {
    sink->log(spdlog::details::log_msg("fer", spdlog::level::err, what));
    sink->flush();
  }
}

void CommonRunFlags::add_to(CLI::App* sub, bool need_config) {
  auto* c = sub->add_option("-c,--config", config, "JSON config file (see configs/)");
  if (need_config) c->required()->check(CLI::ExistingFile);
  sub->add_option("--set", sets, "Override a config value, e.g. --set train.epochs=30 (repeatable)");
  sub->add_option("-o,--out", out, "Run directory (default runs/<name>)");
  sub->add_option("--seed", seed, "Override the config's seed (an integer 0..18446744073709551615)")
      ->check([](const std::string& text) -> std::string {
        uint64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec == std::errc() && end == text.data() + text.size()) return "";
        return fmt::format("expected an integer 0..18446744073709551615, got {}", text);
      });
  sub->add_option("--device", device, "auto | cpu | cuda | cuda:N (auto = CUDA when available)");
  sub->add_option("--threads", threads, "Intra-op threads (0 = all cores)")->check(whole_number(0));
  sub->add_option("--precision", precision, "fp32 | bf16 | fp16: train.precision (bf16: CPUs with AVX512-BF16 or "
                                            "AMX, GPUs; fp16: CUDA)")
      ->check(CLI::IsMember(train::precision_names()));
}

std::vector<std::string> CommonRunFlags::overrides() const {
  std::vector<std::string> o;
  if (!seed.empty()) o.push_back("seed=" + seed);
  if (!device.empty()) o.push_back("device=\"" + device + "\"");
  if (threads >= 0) o.push_back("threads=" + std::to_string(threads));
  if (!precision.empty()) o.push_back("train.precision=\"" + precision + "\"");
  o.insert(o.end(), sets.begin(), sets.end());
  return o;
}

}  // namespace fer::app
