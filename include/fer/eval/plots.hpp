#pragma once
// PNG plots drawn with OpenCV (no Python): confusion matrix, training curves, per-class bars.
#include <string>
#include <vector>

#include "fer/eval/metrics.hpp"

namespace fer::eval {

/// One row of history.csv.
struct EpochRecord {
  int epoch = 0;
  double lr = 0;
  double train_loss = 0, train_acc = 0;
  double val_loss = 0, val_acc = 0, val_macro_f1 = 0;
  double seconds = 0;
};

/// Heatmap of the row-normalised confusion matrix with counts and percentages in each cell,
/// class names on both axes, a title and a colour bar. Written atomically.
void plot_confusion_png(const std::string& path, const Metrics& m,
                        const std::vector<std::string>& class_names, const std::string& title);

/// Pixel box (top-left corner and side) of cell [row][col] in the image that plot_confusion_png
/// draws for the same inputs, so tests and callers can find a cell without re-deriving the layout.
struct CellBox {
  int x = 0, y = 0, size = 0;
};
CellBox confusion_cell_box(const Metrics& m, const std::vector<std::string>& class_names,
                           const std::string& title, int row, int col);

/// Two panels: loss (train, val) and accuracy (train, val) per epoch, with the learning rate
/// on a secondary axis, legends and axis labels.
void plot_curves_png(const std::string& path, const std::vector<EpochRecord>& history,
                     const std::string& title);

/// Grouped bars of precision, recall and F1 per class.
void plot_per_class_png(const std::string& path, const Metrics& m,
                        const std::vector<std::string>& class_names, const std::string& title);

/// Bars of one 0..1 value per fold (drawn in %), labelled "fold <i>" with the value on each bar;
/// the mean as a dashed line with a shaded +-std band and a legend (k-fold reports).
void plot_fold_bars_png(const std::string& path, const std::vector<int>& folds,
                        const std::vector<double>& values, double mean, double std, const std::string& title,
                        const std::string& ylabel);

/// history.csv text (header: epoch,lr,train_loss,train_acc,val_loss,val_acc,val_macro_f1,seconds)
std::string history_csv(const std::vector<EpochRecord>& history);
/// Parses history.csv text; throws DataError naming `origin` and the line.
std::vector<EpochRecord> parse_history_csv(const std::string& text, const std::string& origin);

}  // namespace fer::eval
