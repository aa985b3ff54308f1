#include "fer/eval/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/core/io.hpp"

namespace fer::eval {
namespace {

std::string markdown_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string fixed4(double v) { return fmt::format("{:.4f}", v); }

std::string yes_no(bool b) { return b ? "yes" : "no"; }

std::string interval(const BootstrapCI& ci, double lo, double hi) {
  return ci.resamples > 0 ? fmt::format("[{:.4f}, {:.4f}]", lo, hi) : "-";
}

// A CSV cell of an interval bound: empty when no interval was computed.
std::string csv_bound(const BootstrapCI& ci, double v) {
  return ci.resamples > 0 ? fmt::format("{}", v) : "";
}

/// Columns shared by the console and Markdown tables: header, right-aligned, cell of a row.
struct Column {
  const char* header;
  bool numeric;
  std::string (*cell)(const CompareRow&);
};

const std::vector<Column>& columns() {
  static const std::vector<Column> cols = {
      {"run", false, [](const CompareRow& r) { return r.run; }},
      {"model", false, [](const CompareRow& r) { return r.model; }},
      {"split", false, [](const CompareRow& r) { return r.split; }},
      {"samples", true, [](const CompareRow& r) { return std::to_string(r.metrics.total); }},
      {"accuracy", true, [](const CompareRow& r) { return fixed4(r.metrics.accuracy); }},
      {"acc 95% CI", true,
       [](const CompareRow& r) { return interval(r.ci, r.ci.accuracy_lo, r.ci.accuracy_hi); }},
      {"bal. acc", true, [](const CompareRow& r) { return fixed4(r.metrics.balanced_accuracy); }},
      {"macro P", true, [](const CompareRow& r) { return fixed4(r.metrics.macro_precision); }},
      {"macro R", true, [](const CompareRow& r) { return fixed4(r.metrics.macro_recall); }},
      {"macro F1", true, [](const CompareRow& r) { return fixed4(r.metrics.macro_f1); }},
      {"F1 95% CI", true,
       [](const CompareRow& r) { return interval(r.ci, r.ci.macro_f1_lo, r.ci.macro_f1_hi); }},
      {"weighted F1", true, [](const CompareRow& r) { return fixed4(r.metrics.weighted_f1); }},
      {"epoch", true, [](const CompareRow& r) { return std::to_string(r.epoch); }},
      {"selected on", false, [](const CompareRow& r) { return r.selection; }},
      {"same split", false, [](const CompareRow& r) { return yes_no(r.split_diff.same()); }},
  };
  return cols;
}

/// Header + one row of cells per CompareRow, and each column's width.
std::vector<std::vector<std::string>> cell_grid(const std::vector<CompareRow>& rows, std::vector<size_t>& width) {
  const auto& cols = columns();
  std::vector<std::vector<std::string>> grid(1);
  for (const auto& c : cols) grid[0].emplace_back(c.header);
  for (const auto& r : rows) {
    grid.emplace_back();
    for (const auto& c : cols) grid.back().push_back(c.cell(r));
  }
  width.assign(cols.size(), 0);
  for (const auto& line : grid) {
    for (size_t k = 0; k < cols.size(); ++k) width[k] = std::max(width[k], line[k].size());
  }
  return grid;
}

std::string pad(const std::string& s, size_t width, bool right) {
  const std::string fill(width > s.size() ? width - s.size() : 0, ' ');
  return right ? fill + s : s + fill;
}

std::string rstrip(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

std::string model_label(const config::Config& cfg) {
  std::vector<std::string> notes;
  if (cfg.data.paired.use != "all") notes.push_back(cfg.data.paired.use);
  if (cfg.model.name == "fusion_feature") notes.push_back(cfg.model.fusion_features);
  if (cfg.model.name == "fusion_late") notes.push_back(cfg.model.late_combine);
  if (cfg.model.head != config::Head::kLinear) notes.push_back(cfg.model.head + " head");
  if (cfg.model.feature_gate) notes.push_back("gate");
  if (cfg.model.se) notes.push_back("SE");
  if (cfg.model.cbam) notes.push_back("CBAM");
  if (cfg.model.importance_weighting) notes.push_back("self-cure");
  if (!cfg.model.pretrained.empty()) notes.push_back("pretrained");
  if (cfg.model.name == "vit" || cfg.model.name == "vit_se") {
    notes.push_back(fmt::format("{}/{} x{}", cfg.model.vit_dim, cfg.model.vit_patch, cfg.model.vit_depth));
  }
  const auto& init = cfg.model.init_streams;
  if (std::any_of(init.begin(), init.end(), [](const std::string& s) { return !s.empty(); })) {
    notes.push_back("streams initialised");
  }
  if (notes.empty()) return cfg.model.name;
  return fmt::format("{} ({})", cfg.model.name, fmt::join(notes, ", "));
}

SplitDiff compare_split_ids(const std::vector<std::string>& reference, const std::vector<std::string>& ids) {
  const std::set<std::string> ref(reference.begin(), reference.end()), here(ids.begin(), ids.end());
  SplitDiff d;
  for (const auto& id : here) d.only_here += ref.count(id) == 0 ? 1 : 0;
  for (const auto& id : ref) d.only_reference += here.count(id) == 0 ? 1 : 0;
  return d;
}

std::vector<std::string> read_split_ids(const std::string& split_json_path, const std::string& part) {
  const std::string text = read_file(split_json_path);
  try {
    const auto j = nlohmann::json::parse(text);
    FER_CHECK(j.is_object() && j.contains(part), DataError, "{}: not a split file: no \"{}\" list", split_json_path,
              part);
    return j.at(part).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: not a split file: {}", split_json_path, e.what()));
  }
}

void check_same_classes(const std::vector<std::string>& runs, const std::vector<std::vector<std::string>>& classes) {
  FER_CHECK(runs.size() == classes.size(), DataError, "check_same_classes: {} runs but {} class lists", runs.size(),
            classes.size());
  for (size_t k = 1; k < classes.size(); ++k) {
    FER_CHECK(classes[k] == classes[0], DataError,
              "the runs are not comparable: {} has the classes [{}] but {} has [{}]", runs[0],
              fmt::join(classes[0], ", "), runs[k], fmt::join(classes[k], ", "));
  }
}

TableFormat table_format(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".csv") return TableFormat::kCsv;
  if (ext == ".md") return TableFormat::kMarkdown;
  if (ext == ".json") return TableFormat::kJson;
  throw UsageError(fmt::format("--table {}: unsupported extension \"{}\"; expected .csv, .md or .json", path, ext));
}

std::string comparison_text(const std::vector<CompareRow>& rows) {
  std::vector<size_t> width;
  const auto grid = cell_grid(rows, width);
  const auto& cols = columns();
  std::string out;
  for (size_t i = 0; i < grid.size(); ++i) {
    std::string line;
    for (size_t k = 0; k < cols.size(); ++k) line += (k ? "  " : "") + pad(grid[i][k], width[k], cols[k].numeric);
    out += rstrip(line) + "\n";
    if (i == 0) {
      std::string rule;
      for (size_t k = 0; k < cols.size(); ++k) rule += (k ? "  " : "") + std::string(width[k], '-');
      out += rule + "\n";
    }
  }
  return out;
}

std::string comparison_csv(const std::vector<CompareRow>& rows) {
  std::string out =
      "run,model,split,samples,accuracy,accuracy_ci_lo,accuracy_ci_hi,balanced_accuracy,macro_precision,"
      "macro_recall,macro_f1,macro_f1_ci_lo,macro_f1_ci_hi,weighted_f1,checkpoint_epoch,selected_on,same_"
      "split,"
      "ids_differing\n";
  for (const auto& r : rows) {
    const auto& m = r.metrics;
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(r.run), csv_field(r.model),
        csv_field(r.split), m.total, m.accuracy, csv_bound(r.ci, r.ci.accuracy_lo),
        csv_bound(r.ci, r.ci.accuracy_hi), m.balanced_accuracy, m.macro_precision, m.macro_recall, m.macro_f1,
        csv_bound(r.ci, r.ci.macro_f1_lo), csv_bound(r.ci, r.ci.macro_f1_hi), m.weighted_f1, r.epoch,
        csv_field(r.selection), yes_no(r.split_diff.same()), r.split_diff.differing());
  }
  return out;
}

std::string comparison_markdown(const std::vector<CompareRow>& rows) {
  std::vector<std::vector<std::string>> grid;
  {
    std::vector<size_t> unused;
    grid = cell_grid(rows, unused);
  }
  for (auto& line : grid) {
    for (auto& cell : line) cell = markdown_cell(cell);
  }
  const auto& cols = columns();
  std::vector<size_t> width(cols.size(), 3);
  for (const auto& line : grid) {
    for (size_t k = 0; k < cols.size(); ++k) width[k] = std::max(width[k], line[k].size());
  }
  auto emit = [&](const std::vector<std::string>& line) {
    std::string s = "|";
    for (size_t k = 0; k < cols.size(); ++k) s += " " + pad(line[k], width[k], cols[k].numeric) + " |";
    return s + "\n";
  };
  std::string out = emit(grid[0]);
  out += "|";
  for (size_t k = 0; k < cols.size(); ++k) {
    out += cols[k].numeric ? " " + std::string(width[k] - 1, '-') + ": |" : " " + std::string(width[k], '-') + " |";
  }
  out += "\n";
  for (size_t i = 1; i < grid.size(); ++i) out += emit(grid[i]);
  return out;
}

nlohmann::json comparison_json(const std::vector<CompareRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = metrics_to_json(r.metrics, r.class_names);
    j["run"] = r.run;
    j["model"] = r.model;
    j["split"] = r.split;
    j["samples"] = r.metrics.total;
    j["checkpoint_epoch"] = r.epoch;
    j["checkpoint_selected_on"] = r.selection;
    j["same_split"] = r.split_diff.same();
    j["ids_differing"] = r.split_diff.differing();
    if (r.ci.resamples > 0) {
      j["bootstrap"] = {{"resamples", r.ci.resamples},
                        {"seed", r.ci.seed},
                        {"level", r.ci.level},
                        {"accuracy", {r.ci.accuracy_lo, r.ci.accuracy_hi}},
                        {"macro_f1", {r.ci.macro_f1_lo, r.ci.macro_f1_hi}}};
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::string render_comparison(const std::vector<CompareRow>& rows, TableFormat format) {
  switch (format) {
    case TableFormat::kCsv:
      return comparison_csv(rows);
    case TableFormat::kMarkdown:
      return comparison_markdown(rows);
    case TableFormat::kJson:
      return comparison_json(rows).dump(2) + "\n";
  }
  return {};
}

std::vector<std::string> split_warnings(const std::vector<CompareRow>& rows) {
  std::vector<std::string> out;
  for (size_t k = 1; k < rows.size(); ++k) {
    const auto& d = rows[k].split_diff;
    if (d.same()) continue;
    out.push_back(fmt::format(
        "WARNING: {} evaluated other {} samples than {}: {} ids differ ({} only in {}, {} only in {}); "
        "its numbers are not comparable with {}'s",
        rows[k].run, rows[k].split, rows[0].run, d.differing(), d.only_here, rows[k].run, d.only_reference,
        rows[0].run, rows[0].run));
  }
  return out;
}

std::string summary_line(const CompareRow& row) {
  const auto& m = row.metrics;
  return fmt::format(
      "{}: {} split, {} samples, accuracy {:.4f}, balanced accuracy {:.4f}, macro F1 {:.4f} "
      "(checkpoint of epoch {}, selected on the {} split)",
      row.run, row.split, m.total, m.accuracy, m.balanced_accuracy, m.macro_f1, row.epoch, row.selection);
}

}  // namespace fer::eval
