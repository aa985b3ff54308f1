#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "fer/train/precision.hpp"
#include "fer/core/io.hpp"
#include "fer/train/bench.hpp"

namespace fer::app {

Runner add_bench(CLI::App& app) {
  auto* sub = app.add_subcommand("bench", "Throughput of the data pipeline, the model, the training loop and inference");
  auto o = std::make_shared<train::BenchOptions>();
  auto json_path = std::make_shared<std::string>();
  sub->add_option("--data", o->data, "CK_data.h5 (default: ../shared/data/ck_plus/CK_data.h5 if present, "
                                     "else generated faces)");
  sub->add_option("--batch", o->batch, "Batch size")->check(whole_number(1))->capture_default_str();
  sub->add_option("--crop", o->crop, "Random-crop side")->check(whole_number(8))->capture_default_str();
  sub->add_option("--iters", o->iters, "Timed batches")->check(whole_number(1))->capture_default_str();
  sub->add_option("--warmup", o->warmup, "Untimed batches first")->check(whole_number(0))->capture_default_str();
  sub->add_option("--width", o->width, "ResNet-18 width (64 = standard)")->check(whole_number(1))->capture_default_str();
  sub->add_option("--threads", o->threads, "Intra-op threads (0 = all cores)")->check(whole_number(0));
  sub->add_option("--device", o->device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  sub->add_option("--precision", o->precision, "fp32 | bf16 | fp16: autocast of the forward passes")
      ->check(CLI::IsMember(train::precision_names()))
      ->capture_default_str();
  sub->add_flag("--channels-last", o->channels_last, "Weights and inputs in NHWC memory order");
  sub->add_option("--json", *json_path, "Also write the figures to FILE as JSON (for scripts/bench/compare.sh)");
  return [o, json_path]() {
    if (o->data.empty() && std::filesystem::exists("../shared/data/ck_plus/CK_data.h5")) {
      o->data = "../shared/data/ck_plus/CK_data.h5";
    }
    const auto r = train::run_bench(*o);
    const double train_gflop = 3 * r.forward_gflop;
    auto share = [&](double img_s, double gflop, double peak) {
      return fmt::format("{:6.1f} GFLOP/s, {:3.0f}% of mm", img_s * gflop, 100 * img_s * gflop / peak);
    };
    fmt::print("host: {}\n", r.host);
    fmt::print("ResNet-18 (width {}), {}x{} crops, batch {}, {} threads, device {}, precision {}{}, data: {}\n",
               o->width, o->crop, o->crop, o->batch, r.threads, r.device, r.precision,
               o->channels_last ? ", channels-last" : "", o->data.empty() ? "generated" : o->data);
    fmt::print("  matrix multiply 2048x2048: fp32 {:.0f} GFLOP/s{}\n", r.mm_gflops_fp32,
               o->precision == "fp32" ? std::string() : fmt::format(", {} {:.0f} GFLOP/s", o->precision, r.mm_gflops));
    fmt::print("  work per image: {:.2f} GFLOP forward, {:.2f} GFLOP per training step\n", r.forward_gflop,
               train_gflop);
    fmt::print("  data pipeline alone (decode+augment+collate) {:10.1f} img/s\n", r.pipeline);
    fmt::print("  model alone (forward+backward+step)          {:10.1f} img/s  ({})\n", r.model,
               share(r.model, train_gflop, r.mm_gflops));
    fmt::print("  training loop (loader + model)               {:10.1f} img/s  ({:+.1f}% vs model alone)\n",
               r.train_loop, 100.0 * (r.train_loop / r.model - 1.0));
    fmt::print("  inference alone (forward, eval mode)         {:10.1f} img/s  ({})\n", r.inference,
               share(r.inference, r.forward_gflop, r.mm_gflops));
    fmt::print("  evaluation with ten-crop                     {:10.1f} img/s\n", r.eval_ten_crop);
    if (!json_path->empty()) {
      const nlohmann::json j = {{"host", r.host},
                                {"device", r.device},
                                {"threads", r.threads},
                                {"precision", r.precision},
                                {"channels_last", o->channels_last},
                                {"batch", o->batch},
                                {"crop", o->crop},
                                {"width", o->width},
                                {"data", o->data.empty() ? "generated" : o->data},
                                {"mm_gflops_fp32", r.mm_gflops_fp32},
                                {"mm_gflops", r.mm_gflops},
                                {"forward_gflop", r.forward_gflop},
                                {"pipeline", r.pipeline},
                                {"model", r.model},
                                {"train_loop", r.train_loop},
                                {"inference", r.inference},
                                {"eval_ten_crop", r.eval_ten_crop}};
      write_file_atomic(*json_path, j.dump(2) + "\n");
    }
    return 0;
  };
}

}  // namespace fer::app
