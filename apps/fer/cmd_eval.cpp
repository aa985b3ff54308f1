#include <fmt/format.h>

#include <algorithm>

#include "commands.hpp"
#include "fer/infer/evaluate.hpp"

namespace fer::app {

Runner add_eval(CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "Evaluate a run's checkpoint: accuracy, P/R/F1, confusion matrix");
  auto req = std::make_shared<infer::EvalRequest>();
  sub->add_option("-r,--run", req->run_dir, "Run directory of fer train")->required();
  sub->add_option("--split", req->split, "train | val | test")->capture_default_str();
  sub->add_option("--checkpoint", req->checkpoint, "best | last | path of a .pt")->capture_default_str();
  sub->add_option("--tta", req->tta, "config | none | ten_crop (test-time augmentation)")->capture_default_str();
  sub->add_option("--device", req->device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  sub->add_option("--threads", req->threads, "Intra-op threads (0 = all cores)");
  return [req]() {
    const auto r = infer::evaluate_run(*req);
    const auto& m = r.metrics;
    size_t w = 9;
    for (const auto& n : r.class_names) w = std::max(w, n.size());
    fmt::print("{} split, {} samples, checkpoint of epoch {} (selected on the {} split)\n\n", req->split, m.total,
               r.epoch, r.selection);
    fmt::print("{:<{}}  precision  recall     f1  support\n", "class", w);
    for (size_t c = 0; c < r.class_names.size(); ++c) {
      fmt::print("{:<{}}  {:9.4f} {:7.4f} {:6.4f} {:8}\n", r.class_names[c], w, m.precision[c], m.recall[c],
                 m.f1[c], m.support[c]);
    }
    fmt::print("{:<{}}  {:9.4f} {:7.4f} {:6.4f} {:8}\n", "macro", w, m.macro_precision, m.macro_recall, m.macro_f1,
               m.total);
    fmt::print("{:<{}}  {:9.4f} {:7.4f} {:6.4f} {:8}\n\n", "weighted", w, m.weighted_precision, m.weighted_recall,
               m.weighted_f1, m.total);
    fmt::print("accuracy {:.4f}  balanced accuracy {:.4f}  loss {:.4f}\n\n", m.accuracy, m.balanced_accuracy, m.loss);
    fmt::print("confusion (rows true, columns predicted)\n{:<{}}", "", w);
    for (size_t c = 0; c < r.class_names.size(); ++c) fmt::print(" {:>6.6}", r.class_names[c]);
    fmt::print("\n");
    for (size_t t = 0; t < r.class_names.size(); ++t) {
      fmt::print("{:<{}}", r.class_names[t], w);
      for (size_t p = 0; p < r.class_names.size(); ++p) fmt::print(" {:>6}", m.confusion[t][p]);
      fmt::print("\n");
    }
    fmt::print("\nwritten:\n");
    for (const auto& f : r.files) fmt::print("  {}\n", f);
    return 0;
  };
}

}  // namespace fer::app
