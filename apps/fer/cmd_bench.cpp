#include <fmt/format.h>

#include <filesystem>

#include "commands.hpp"
#include "fer/train/bench.hpp"

namespace fer::app {

Runner add_bench(CLI::App& app) {
  auto* sub = app.add_subcommand("bench", "Throughput of the data pipeline, the model and the training loop");
  auto o = std::make_shared<train::BenchOptions>();
  sub->add_option("--data", o->data, "CK_data.h5 (default: ../shared/data/ck_plus/CK_data.h5 if present, "
                                     "else generated faces)");
  sub->add_option("--batch", o->batch, "Batch size")->check(whole_number(1))->capture_default_str();
  sub->add_option("--crop", o->crop, "Random-crop side")->capture_default_str();
  sub->add_option("--iters", o->iters, "Timed batches")->check(whole_number(1))->capture_default_str();
  sub->add_option("--warmup", o->warmup, "Untimed batches first")->capture_default_str();
  sub->add_option("--width", o->width, "ResNet-18 width (64 = standard)")->capture_default_str();
  sub->add_option("--threads", o->threads, "Intra-op threads (0 = all cores)")->check(whole_number(0));
  sub->add_option("--device", o->device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  return [o]() {
    if (o->data.empty() && std::filesystem::exists("../shared/data/ck_plus/CK_data.h5")) {
      o->data = "../shared/data/ck_plus/CK_data.h5";
    }
    const auto r = train::run_bench(*o);
    fmt::print("ResNet-18 (width {}), {}x{} crops, batch {}, {} threads, device {}, data: {}\n", o->width, o->crop,
               o->crop, o->batch, r.threads, r.device, o->data.empty() ? "generated" : o->data);
    fmt::print("  data pipeline alone (decode+augment+collate) {:10.1f} img/s\n", r.pipeline);
    fmt::print("  model alone (forward+backward+step)          {:10.1f} img/s\n", r.model);
    fmt::print("  training loop (loader + model)               {:10.1f} img/s  ({:+.1f}% vs model alone)\n",
               r.train_loop, 100.0 * (r.train_loop / r.model - 1.0));
    fmt::print("  evaluation with ten-crop                     {:10.1f} img/s\n", r.eval_ten_crop);
    return 0;
  };
}

}  // namespace fer::app
