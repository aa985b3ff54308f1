#include "fer/eval/plots.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"

namespace fer::eval {

namespace {

// ---------------------------------------------------------------------------------------------
// Drawing primitives. Everything is laid out in logical pixels on a canvas kSS times larger and
// downsampled at the end (INTER_AREA): Hershey glyphs and thin lines then come out smooth and
// with an even stroke weight, which they do not when drawn at 1x.

using Color = cv::Scalar;  // BGR
const Color kWhite(255, 255, 255);
const Color kInk(40, 40, 40);       // text and axes
const Color kMuted(115, 115, 115);  // secondary text
const Color kGrid(228, 228, 228);
const Color kFrame(90, 90, 90);
// matplotlib's "tab10" colours, familiar from Python reports.
const Color kBlue(180, 119, 31), kOrange(14, 127, 255), kGreen(44, 160, 44), kRed(40, 39, 214),
    kGray(127, 127, 127);

constexpr int kSS = 2;
constexpr int kFontFace = cv::FONT_HERSHEY_SIMPLEX;

struct Font {
  double scale;      // cv::putText scale at 1x
  double thickness;  // logical pixels
};
const Font kTitleFont{0.78, 1.6};
const Font kSubtitleFont{0.5, 1.0};
const Font kLabelFont{0.56, 1.0};
const Font kTickFont{0.48, 1.0};
const Font kLegendFont{0.47, 1.0};

enum class HAlign { kLeft, kCenter, kRight };
enum class VAlign { kTop, kCenter, kBaseline };

int px_thickness(double t) { return std::max(1, static_cast<int>(std::lround(t * kSS))); }

struct TextSize {
  double w = 0, h = 0, descent = 0;  // logical; h is the cap height above the baseline
};

TextSize measure(const std::string& s, Font f) {
  int base = 0;
  const cv::Size sz = cv::getTextSize(s, kFontFace, f.scale * kSS, px_thickness(f.thickness), &base);
  return {sz.width / double(kSS), sz.height / double(kSS), base / double(kSS)};
}

double max_text_width(const std::vector<std::string>& v, Font f) {
  double w = 0;
  for (const auto& s : v) w = std::max(w, measure(s, f).w);
  return w;
}

struct Box {
  double x = 0, y = 0, w = 0, h = 0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
  bool contains(double px, double py) const { return px >= x && px <= x + w && py >= y && py <= y + h; }
};

class Canvas {
 public:
  Canvas(int w, int h) : w_(w), h_(h), img_(h * kSS, w * kSS, CV_8UC3, kWhite) {}

  void line(double x0, double y0, double x1, double y1, const Color& c, double t = 1.0) {
    cv::line(img_, pt(x0, y0), pt(x1, y1), c, px_thickness(t), cv::LINE_AA);
  }

  /// Polyline through pts; dashed draws dash/gap runs that continue across vertices.
  void polyline(const std::vector<cv::Point2d>& pts, const Color& c, double t, bool dashed) {
    if (pts.size() < 2) return;
    if (!dashed) {
      std::vector<cv::Point> p;
      for (const auto& q : pts) p.push_back(pt(q.x, q.y));
      cv::polylines(img_, p, false, c, px_thickness(t), cv::LINE_AA);
      return;
    }
    const double dash = 7, gap = 5;
    double phase = 0;  // position within the current dash+gap period
    for (std::size_t i = 1; i < pts.size(); ++i) {
      const cv::Point2d a = pts[i - 1], b = pts[i];
      const double len = std::hypot(b.x - a.x, b.y - a.y);
      double s = 0;
      while (s < len) {
        const bool on = phase < dash;
        const double run = std::min(len - s, on ? dash - phase : dash + gap - phase);
        if (on) {
          const cv::Point2d p0 = a + (b - a) * (s / len), p1 = a + (b - a) * ((s + run) / len);
          line(p0.x, p0.y, p1.x, p1.y, c, t);
        }
        s += run;
        phase = std::fmod(phase + run, dash + gap);
      }
    }
  }

  void fill(const Box& b, const Color& c) {
    cv::rectangle(img_, cv::Rect(pt(b.x, b.y), pt(b.right(), b.bottom())), c, cv::FILLED);
  }
  void outline(const Box& b, const Color& c, double t = 1.0) {
    cv::rectangle(img_, cv::Rect(pt(b.x, b.y), pt(b.right(), b.bottom())), c, px_thickness(t), cv::LINE_8);
  }
  void dot(double x, double y, double r, const Color& c) {
    cv::circle(img_, pt(x, y), static_cast<int>(std::lround(r * kSS)), c, cv::FILLED, cv::LINE_AA);
  }

  /// Horizontal text anchored at (x, y); VAlign::kCenter centres the cap height on y.
  void text(const std::string& s, double x, double y, Font f, const Color& c, HAlign ha = HAlign::kLeft,
            VAlign va = VAlign::kBaseline) {
    const TextSize ts = measure(s, f);
    const double left = ha == HAlign::kLeft ? x : ha == HAlign::kCenter ? x - ts.w / 2 : x - ts.w;
    const double base = va == VAlign::kTop ? y + ts.h : va == VAlign::kCenter ? y + ts.h / 2 : y;
    cv::putText(img_, s, pt(left, base), kFontFace, f.scale * kSS, c, px_thickness(f.thickness), cv::LINE_AA);
  }

  /// Text rotated 90 degrees counter-clockwise (reads bottom to top). The anchor aligns the
  /// rotated box: ha on x (its left/centre/right), va on y (its top/centre/bottom).
  void text_up(const std::string& s, double x, double y, Font f, const Color& c, HAlign ha, VAlign va) {
    const TextSize ts = measure(s, f);
    const int pad = 2 * kSS;
    const int tw = static_cast<int>(std::ceil(ts.w * kSS)) + 2 * pad;
    const int th = static_cast<int>(std::ceil((ts.h + ts.descent) * kSS)) + 2 * pad;
    cv::Mat mask(th, tw, CV_8UC1, cv::Scalar(0));
    cv::putText(mask, s, cv::Point(pad, pad + static_cast<int>(std::lround(ts.h * kSS))), kFontFace,
                f.scale * kSS, cv::Scalar(255), px_thickness(f.thickness), cv::LINE_AA);
    cv::Mat up;
    cv::rotate(mask, up, cv::ROTATE_90_COUNTERCLOCKWISE);
    // The glyph box (without padding) is (h + descent) wide and w tall once rotated.
    const double bw = ts.h + ts.descent, bh = ts.w;
    const double left = ha == HAlign::kLeft ? x : ha == HAlign::kCenter ? x - bw / 2 : x - bw;
    const double top = va == VAlign::kTop ? y : va == VAlign::kCenter ? y - bh / 2 : y - bh;
    const cv::Point origin = pt(left, top) - cv::Point(pad, pad);
    blend(up, origin, c);
  }

  /// PNG bytes of the canvas at its logical size.
  std::string png() const {
    cv::Mat out;
    cv::resize(img_, out, cv::Size(w_, h_), 0, 0, cv::INTER_AREA);
    std::vector<uchar> buf;
    FER_CHECK(cv::imencode(".png", out, buf), IoError, "cannot encode PNG");
    return std::string(buf.begin(), buf.end());
  }

 private:
  static cv::Point pt(double x, double y) {
    return {static_cast<int>(std::lround(x * kSS)), static_cast<int>(std::lround(y * kSS))};
  }

  /// Paints colour c through an 8-bit coverage mask placed at origin (physical pixels).
  void blend(const cv::Mat& mask, cv::Point origin, const Color& c) {
    const cv::Rect dst = cv::Rect(origin, mask.size()) & cv::Rect(0, 0, img_.cols, img_.rows);
    for (int yy = dst.y; yy < dst.y + dst.height; ++yy) {
      const uchar* m = mask.ptr<uchar>(yy - origin.y);
      cv::Vec3b* p = img_.ptr<cv::Vec3b>(yy);
      for (int xx = dst.x; xx < dst.x + dst.width; ++xx) {
        const double a = m[xx - origin.x] / 255.0;
        if (a <= 0) continue;
        for (int k = 0; k < 3; ++k) p[xx][k] = cv::saturate_cast<uchar>(p[xx][k] * (1 - a) + c[k] * a);
      }
    }
  }

  int w_, h_;
  cv::Mat img_;
};

void save_png(const std::string& path, const Canvas& canvas) { write_file_atomic(path, canvas.png()); }

// ---------------------------------------------------------------------------------------------
// Axes with "nice" 1-2-5 ticks.

double nice_step(double span, int target) {
  const double raw = span / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

struct Axis {
  double lo = 0, hi = 1;  // the range mapped onto the plot side
  std::vector<double> ticks;
  std::vector<std::string> labels;
  std::string offset;  // "x1e-3" when labels are scaled, drawn by the axis
};

/// Ticks of a 1-2-5 step covering [lo, hi]; snap widens the range to whole steps; integer keeps
/// steps >= 1 (epochs).
Axis make_axis(double lo, double hi, int target, bool integer, bool snap) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) lo = 0, hi = 1;
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    const double d = integer ? 1.0 : (std::abs(lo) > 0 ? std::abs(lo) * 0.1 : 1.0);
    lo -= d;
    hi += d;
  }
  double step = nice_step(hi - lo, target);
  if (integer) step = std::max(1.0, std::round(step));
  Axis a;
  a.lo = snap ? std::floor(lo / step + 1e-9) * step : lo;
  a.hi = snap ? std::ceil(hi / step - 1e-9) * step : hi;
  const long k0 = std::lround(std::ceil(a.lo / step - 1e-9)),
             k1 = std::lround(std::floor(a.hi / step + 1e-9));
  double maxabs = 0;
  for (long k = k0; k <= k1; ++k) {
    double v = static_cast<double>(k) * step;
    if (std::abs(v) < step * 1e-9) v = 0;
    a.ticks.push_back(v);
    maxabs = std::max(maxabs, std::abs(v));
  }
  double scale = 1;
  if (maxabs > 0 && (maxabs < 1e-2 || maxabs >= 1e5)) {
    const int e = static_cast<int>(std::floor(std::log10(maxabs)));
    scale = std::pow(10.0, e);
    a.offset = fmt::format("x1e{}", e);
  }
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step / scale) - 1e-9)));
  for (double v : a.ticks) a.labels.push_back(fmt::format("{:.{}f}", v / scale + 0.0, decimals));
  return a;
}

// ---------------------------------------------------------------------------------------------
// Line-chart panels.

struct Series {
  std::string label;
  std::vector<double> x, y;  // a non-finite y breaks the line
  Color color;
  bool dashed = false;
  bool markers = true;
  bool right_axis = false;
  bool underlay = false;  // drawn before the others (reference lines)
};

struct Panel {
  std::string title, xlabel, ylabel, ylabel_right;
  Axis x, y, y_right;
  bool has_right = false;
  std::vector<Series> series;
};

struct PanelMargins {
  double left, right, top, bottom;
};

PanelMargins panel_margins(const Panel& p) {
  const double label_h = measure("Ag", kLabelFont).h + measure("Ag", kLabelFont).descent;
  const double tick_h = measure("0", kTickFont).h;
  PanelMargins m{};
  m.left = 10 + label_h + 10 + max_text_width(p.y.labels, kTickFont) + 8;
  m.right = p.has_right ? 8 + max_text_width(p.y_right.labels, kTickFont) + 10 + label_h + 10 : 14;
  m.top = measure(p.title, kLabelFont).h + 22;
  m.bottom = 8 + tick_h + 14 + label_h + 8;
  return m;
}

/// Draws panel p inside slot, with its plot area starting `m` in from the slot edges.
void draw_panel(Canvas& cv, const Panel& p, const Box& slot, const PanelMargins& m) {
  const Box area{slot.x + m.left, slot.y + m.top, slot.w - m.left - m.right, slot.h - m.top - m.bottom};
  auto sx = [&](double v) { return area.x + (v - p.x.lo) / (p.x.hi - p.x.lo) * area.w; };
  auto sy_axis = [&](const Axis& a, double v) { return area.bottom() - (v - a.lo) / (a.hi - a.lo) * area.h; };

  // Grid and ticks.
  for (std::size_t i = 0; i < p.y.ticks.size(); ++i) {
    const double y = sy_axis(p.y, p.y.ticks[i]);
    cv.line(area.x, y, area.right(), y, kGrid);
    cv.line(area.x - 4, y, area.x, y, kFrame);
    cv.text(p.y.labels[i], area.x - 8, y, kTickFont, kInk, HAlign::kRight, VAlign::kCenter);
  }
  for (std::size_t i = 0; i < p.x.ticks.size(); ++i) {
    const double x = sx(p.x.ticks[i]);
    cv.line(x, area.y, x, area.bottom(), kGrid);
    cv.line(x, area.bottom(), x, area.bottom() + 4, kFrame);
    cv.text(p.x.labels[i], x, area.bottom() + 8, kTickFont, kInk, HAlign::kCenter, VAlign::kTop);
  }
  if (p.has_right) {
    for (std::size_t i = 0; i < p.y_right.ticks.size(); ++i) {
      const double y = sy_axis(p.y_right, p.y_right.ticks[i]);
      cv.line(area.right(), y, area.right() + 4, y, kFrame);
      cv.text(p.y_right.labels[i], area.right() + 8, y, kTickFont, kMuted, HAlign::kLeft, VAlign::kCenter);
    }
    if (!p.y_right.offset.empty())
      cv.text(p.y_right.offset, area.right(), area.y - 6, kTickFont, kMuted, HAlign::kRight);
  }
  if (!p.y.offset.empty()) cv.text(p.y.offset, area.x, area.y - 6, kTickFont, kInk);

  // Labels and title.
  cv.text(p.title, area.x + area.w / 2, slot.y + 4, kLabelFont, kInk, HAlign::kCenter, VAlign::kTop);
  cv.text(p.xlabel, area.x + area.w / 2, slot.bottom() - 8 - measure("g", kLabelFont).descent, kLabelFont,
          kInk, HAlign::kCenter);
  cv.text_up(p.ylabel, slot.x + 10, area.y + area.h / 2, kLabelFont, kInk, HAlign::kLeft, VAlign::kCenter);
  if (p.has_right)
    cv.text_up(p.ylabel_right, slot.right() - 10, area.y + area.h / 2, kLabelFont, kMuted, HAlign::kRight,
               VAlign::kCenter);

  // Series: pixel polylines, broken at non-finite values.
  std::vector<cv::Point2d> occupied;  // for legend placement
  std::vector<const Series*> order;
  for (const Series& s : p.series)
    if (s.underlay) order.push_back(&s);
  for (const Series& s : p.series)
    if (!s.underlay) order.push_back(&s);
  for (const Series* sp : order) {
    const Series& s = *sp;
    const Axis& ya = s.right_axis ? p.y_right : p.y;
    const std::size_t n = s.x.size();
    const std::size_t every = n <= 40 ? 1 : (n + 24) / 25;
    const double r = n <= 3 ? 4.2 : 2.6;
    std::vector<cv::Point2d> run, marks;
    auto flush = [&] {
      if (run.size() == 1 && !s.markers) marks.push_back(run[0]);  // a lone point would be invisible
      cv.polyline(run, s.color, 1.8, s.dashed);
      run.clear();
    };
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.y[i])) {
        flush();
        continue;
      }
      const cv::Point2d q(sx(s.x[i]), sy_axis(ya, s.y[i]));
      if (!run.empty()) {  // midpoints too, so the legend avoids long straight segments
        const cv::Point2d& prev = run.back();
        for (int k = 1; k < 4; ++k) occupied.push_back(prev + (q - prev) * (k / 4.0));
      }
      run.push_back(q);
      occupied.push_back(q);
      if (s.markers && (i % every == 0 || i + 1 == n)) marks.push_back(q);
    }
    flush();
    for (const auto& q : marks) {
      cv.dot(q.x, q.y, r + 0.8, kWhite);
      cv.dot(q.x, q.y, r, s.color);
    }
  }
  cv.outline(area, kFrame);

  // Legend in the corner that hides the fewest points.
  std::vector<const Series*> entries;
  for (const Series& s : p.series)
    if (!s.label.empty()) entries.push_back(&s);
  if (entries.empty()) return;
  const double row_h = measure("Ag", kLegendFont).h + 10, sample_w = 28;
  double text_w = 0;
  for (const Series* s : entries) text_w = std::max(text_w, measure(s->label, kLegendFont).w);
  const double lw = 10 + sample_w + 8 + text_w + 10, lh = 6 + row_h * entries.size() + 4;
  const double inset = 8;
  const std::array<Box, 4> corners = {Box{area.right() - inset - lw, area.y + inset, lw, lh},
                                      Box{area.x + inset, area.y + inset, lw, lh},
                                      Box{area.right() - inset - lw, area.bottom() - inset - lh, lw, lh},
                                      Box{area.x + inset, area.bottom() - inset - lh, lw, lh}};
  Box best = corners[0];
  std::size_t best_hits = std::numeric_limits<std::size_t>::max();
  for (const Box& b : corners) {
    std::size_t hits = 0;
    for (const auto& q : occupied) hits += b.contains(q.x, q.y) ? 1 : 0;
    if (hits < best_hits) best = b, best_hits = hits;
  }
  cv.fill(best, kWhite);
  cv.outline(best, Color(200, 200, 200));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Series& s = *entries[i];
    const double cy = best.y + 6 + row_h * (i + 0.5);
    const double x0 = best.x + 10;
    cv.polyline({{x0, cy}, {x0 + sample_w, cy}}, s.color, 1.8, s.dashed);
    if (s.markers) {
      cv.dot(x0 + sample_w / 2, cy, 3.4, kWhite);
      cv.dot(x0 + sample_w / 2, cy, 2.6, s.color);
    }
    cv.text(s.label, x0 + sample_w + 8, cy, kLegendFont, kInk, HAlign::kLeft, VAlign::kCenter);
  }
}

/// Min and max over the finite values of several series; (inf, -inf) when there are none.
std::pair<double, double> finite_range(std::initializer_list<const std::vector<double>*> vs) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto* v : vs)
    for (double x : *v)
      if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  return {lo, hi};
}

bool any_finite_nonzero(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return std::isfinite(x) && x != 0; });
}

// ---------------------------------------------------------------------------------------------
// Confusion matrix layout, shared by the plot and confusion_cell_box.

/// matplotlib's "Blues": perceptually ordered from near-white to dark navy.
Color blues(double t) {
  static const std::array<std::array<double, 3>, 9> kStops = {{{247, 251, 255},
                                                               {222, 235, 247},
                                                               {198, 219, 239},
                                                               {158, 202, 225},
                                                               {107, 174, 214},
                                                               {66, 146, 198},
                                                               {33, 113, 181},
                                                               {8, 81, 156},
                                                               {8, 48, 107}}};  // RGB
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * (kStops.size() - 1);
  const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(t), kStops.size() - 2);
  const double f = t - static_cast<double>(i);
  std::array<double, 3> rgb{};
  for (int k = 0; k < 3; ++k) rgb[k] = kStops[i][k] * (1 - f) + kStops[i + 1][k] * f;
  return Color(rgb[2], rgb[1], rgb[0]);
}

bool is_dark(const Color& c) { return 0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2] < 145; }

std::string percent(double v) { return fmt::format("{:.1f}%", 100 * v); }

struct ConfusionLayout {
  int n = 0;
  int cell = 0;
  int x0 = 0, y0 = 0;  // top-left of the matrix
  int width = 0, height = 0;
  bool rotate_x = false;
  Font count_font{}, pct_font{};
  double name_w = 0;
  double bar_x = 0;  // colour bar left edge
  std::vector<std::vector<double>> norm;
  std::string subtitle;
};

ConfusionLayout confusion_layout(const Metrics& m, const std::vector<std::string>& names,
                                 const std::string& title) {
  const int n = m.num_classes;
  FER_CHECK(n > 0 && static_cast<int>(names.size()) == n && static_cast<int>(m.confusion.size()) == n,
            DataError, "confusion plot: {} class names for {} classes ({} confusion rows)", names.size(), n,
            m.confusion.size());
  ConfusionLayout L;
  L.n = n;
  L.norm.assign(n, std::vector<double>(n, 0.0));
  int64_t max_count = 0;
  for (int t = 0; t < n; ++t) {
    FER_CHECK(static_cast<int>(m.confusion[t].size()) == n, DataError,
              "confusion plot: row {} has {} columns", t, m.confusion[t].size());
    int64_t row = 0;
    for (int64_t v : m.confusion[t]) row += v, max_count = std::max(max_count, v);
    for (int p = 0; p < n; ++p) L.norm[t][p] = row > 0 ? static_cast<double>(m.confusion[t][p]) / row : 0.0;
  }
  L.count_font = n <= 4 ? Font{0.62, 1.4} : n <= 7 ? Font{0.52, 1.3} : Font{0.46, 1.2};
  L.pct_font = Font{L.count_font.scale * 0.8, 1.0};
  const double inner =
      std::max(measure(std::to_string(max_count), L.count_font).w, measure("100.0%", L.pct_font).w);
  L.cell = std::max(std::clamp(620 / n, 68, 150), static_cast<int>(std::ceil(inner)) + 16);

  L.name_w = max_text_width(names, kTickFont);
  L.rotate_x = L.name_w > L.cell - 8;
  const double label_h = measure("Ag", kLabelFont).h + measure("Ag", kLabelFont).descent;
  const double tick_h = measure("Ag", kTickFont).h + measure("Ag", kTickFont).descent;
  const double title_h = measure(title, kTitleFont).h;
  const double sub_h = measure("Ag", kSubtitleFont).h;
  const int64_t correct = [&] {
    int64_t c = 0;
    for (int i = 0; i < n; ++i) c += m.confusion[i][i];
    return c;
  }();
  L.subtitle = fmt::format("{} samples, accuracy {}, balanced accuracy {}, macro F1 {:.3f}", m.total,
                           percent(m.total > 0 ? static_cast<double>(correct) / m.total : 0.0),
                           percent(m.balanced_accuracy), m.macro_f1);

  const double left = 16 + label_h + 12 + L.name_w + 10;
  const double top = 18 + title_h + 12 + sub_h + 24;
  const double bottom = 10 + (L.rotate_x ? L.name_w : tick_h) + 14 + label_h + 16;
  const double bar_w = 18;
  const double right = 28 + bar_w + 8 + measure("100%", kTickFont).w + 12 + label_h + 16;
  L.x0 = static_cast<int>(std::ceil(left));
  L.y0 = static_cast<int>(std::ceil(top));
  const int side = L.cell * n;
  L.bar_x = L.x0 + side + 28;
  L.width = static_cast<int>(std::ceil(L.x0 + side + right));
  const double header_w = std::max(measure(title, kTitleFont).w, measure(L.subtitle, kSubtitleFont).w) + 32;
  L.width = std::max(L.width, static_cast<int>(std::ceil(header_w)));
  L.height = static_cast<int>(std::ceil(L.y0 + side + bottom));
  return L;
}

// ---------------------------------------------------------------------------------------------
// history.csv

constexpr const char* kHistoryHeader = "epoch,lr,train_loss,train_acc,val_loss,val_acc,val_macro_f1,seconds";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

CellBox confusion_cell_box(const Metrics& m, const std::vector<std::string>& class_names,
                           const std::string& title, int row, int col) {
  const ConfusionLayout L = confusion_layout(m, class_names, title);
  FER_CHECK(row >= 0 && row < L.n && col >= 0 && col < L.n, DataError,
            "confusion_cell_box: cell ({}, {}) outside a {}x{} matrix", row, col, L.n, L.n);
  return CellBox{L.x0 + col * L.cell, L.y0 + row * L.cell, L.cell};
}

void plot_confusion_png(const std::string& path, const Metrics& m,
                        const std::vector<std::string>& class_names, const std::string& title) {
  const ConfusionLayout L = confusion_layout(m, class_names, title);
  const int n = L.n, side = L.cell * n;
  Canvas cv(L.width, L.height);

  // Title over the matrix when it fits there, else over the image.
  const double mid = L.x0 + side / 2.0;
  const double title_w = std::max(measure(title, kTitleFont).w, measure(L.subtitle, kSubtitleFont).w);
  const double cx = std::clamp(mid, 16 + title_w / 2, L.width - 16 - title_w / 2);
  cv.text(title, cx, 18, kTitleFont, kInk, HAlign::kCenter, VAlign::kTop);
  cv.text(L.subtitle, cx, 18 + measure(title, kTitleFont).h + 12, kSubtitleFont, kMuted, HAlign::kCenter,
          VAlign::kTop);

  // Cells: colour by row-normalised value; count over percentage, ink switching on dark cells.
  const double count_h = measure("0", L.count_font).h, pct_h = measure("0", L.pct_font).h;
  const double gap = std::max(6.0, count_h * 0.6);
  for (int t = 0; t < n; ++t) {
    int64_t row = 0;
    for (int64_t v : m.confusion[t]) row += v;
    for (int p = 0; p < n; ++p) {
      const Box b{double(L.x0 + p * L.cell), double(L.y0 + t * L.cell), double(L.cell), double(L.cell)};
      const Color c = blues(L.norm[t][p]);
      cv.fill(b, c);
      const Color ink = is_dark(c) ? kWhite : m.confusion[t][p] == 0 ? kMuted : kInk;
      const double cy = b.y + b.h / 2;
      if (row > 0) {
        const double block = count_h + gap + pct_h;
        cv.text(std::to_string(m.confusion[t][p]), b.x + b.w / 2, cy - block / 2, L.count_font, ink,
                HAlign::kCenter, VAlign::kTop);
        cv.text(percent(L.norm[t][p]), b.x + b.w / 2, cy + block / 2, L.pct_font, ink, HAlign::kCenter,
                VAlign::kBaseline);
      } else {
        cv.text("0", b.x + b.w / 2, cy, L.count_font, kMuted, HAlign::kCenter, VAlign::kCenter);
      }
    }
  }
  // Thin white separators, then the frame.
  for (int k = 1; k < n; ++k) {
    cv.line(L.x0 + k * L.cell, L.y0, L.x0 + k * L.cell, L.y0 + side, kWhite, 1.0);
    cv.line(L.x0, L.y0 + k * L.cell, L.x0 + side, L.y0 + k * L.cell, kWhite, 1.0);
  }
  cv.outline(Box{double(L.x0), double(L.y0), double(side), double(side)}, kFrame);

  // Class names on both axes.
  for (int k = 0; k < n; ++k) {
    const double c = L.x0 + (k + 0.5) * L.cell;
    cv.text(class_names[k], L.x0 - 10, L.y0 + (k + 0.5) * L.cell, kTickFont, kInk, HAlign::kRight,
            VAlign::kCenter);
    if (L.rotate_x)
      cv.text_up(class_names[k], c, L.y0 + side + 10, kTickFont, kInk, HAlign::kCenter, VAlign::kTop);
    else
      cv.text(class_names[k], c, L.y0 + side + 10, kTickFont, kInk, HAlign::kCenter, VAlign::kTop);
  }
  const double label_desc = measure("g", kLabelFont).descent;
  cv.text("Predicted class", L.x0 + side / 2.0, L.height - 16 - label_desc, kLabelFont, kInk,
          HAlign::kCenter);
  cv.text_up("True class", 16, L.y0 + side / 2.0, kLabelFont, kInk, HAlign::kLeft, VAlign::kCenter);

  // Colour bar 0..100 %.
  const double bar_w = 18;
  for (int yy = 0; yy < side; ++yy) {
    const double v = 1.0 - (yy + 0.5) / side;
    cv.fill(Box{L.bar_x, double(L.y0 + yy), bar_w, 1.0}, blues(v));
  }
  cv.outline(Box{L.bar_x, double(L.y0), bar_w, double(side)}, kFrame);
  for (int k = 0; k <= 5; ++k) {
    const double y = L.y0 + side * (1.0 - k / 5.0);
    cv.line(L.bar_x + bar_w, y, L.bar_x + bar_w + 4, y, kFrame);
    cv.text(fmt::format("{}%", k * 20), L.bar_x + bar_w + 8, y, kTickFont, kInk, HAlign::kLeft,
            VAlign::kCenter);
  }
  cv.text_up("Share of true class", L.width - 16, L.y0 + side / 2.0, kLabelFont, kMuted, HAlign::kRight,
             VAlign::kCenter);
  save_png(path, cv);
}

void plot_curves_png(const std::string& path, const std::vector<EpochRecord>& history,
                     const std::string& title) {
  FER_CHECK(!history.empty(), DataError, "plot_curves_png: {}: empty history, nothing to plot", path);
  std::vector<double> ep, lr, tl, vl, ta, va, vf;
  for (const auto& r : history) {
    ep.push_back(r.epoch);
    lr.push_back(r.lr);
    tl.push_back(r.train_loss);
    vl.push_back(r.val_loss);
    ta.push_back(100 * r.train_acc);
    va.push_back(100 * r.val_acc);
    vf.push_back(100 * r.val_macro_f1);
  }
  const auto [e_lo, e_hi] = finite_range({&ep});
  Axis x_axis = make_axis(e_lo, e_hi, 8, /*integer=*/true, /*snap=*/false);
  {  // only epochs that exist (no "epoch 0" when training starts at 1)
    Axis kept = x_axis;
    kept.ticks.clear();
    kept.labels.clear();
    for (std::size_t i = 0; i < x_axis.ticks.size(); ++i)
      if (x_axis.ticks[i] >= e_lo - 1e-9 && x_axis.ticks[i] <= e_hi + 1e-9)
        kept.ticks.push_back(x_axis.ticks[i]), kept.labels.push_back(x_axis.labels[i]);
    x_axis = kept;
  }
  Axis x_padded = x_axis;  // a little air so the first and last markers are not on the frame
  const double pad = std::max(0.5, (x_axis.hi - x_axis.lo) * 0.02);
  x_padded.lo -= pad;
  x_padded.hi += pad;

  Panel loss;
  loss.title = "Loss";
  loss.xlabel = "Epoch";
  loss.ylabel = "Cross-entropy loss";
  loss.x = x_padded;
  const auto [l_lo, l_hi] = finite_range({&tl, &vl});
  // 3 % headroom keeps the highest point off the frame.
  loss.y = make_axis(std::min(0.0, l_lo), l_hi + 0.03 * (l_hi - std::min(0.0, l_lo)), 6, false, true);
  loss.series.push_back({"train loss", ep, tl, kBlue, false, true, false});
  if (std::any_of(vl.begin(), vl.end(), [](double v) { return std::isfinite(v); }))
    loss.series.push_back({"val loss", ep, vl, kOrange, false, true, false});
  const bool show_lr = any_finite_nonzero(lr);
  if (show_lr) {
    loss.has_right = true;
    loss.ylabel_right = "Learning rate";
    const auto [r_lo, r_hi] = finite_range({&lr});
    loss.y_right = make_axis(std::min(0.0, r_lo), r_hi + 0.03 * (r_hi - std::min(0.0, r_lo)), 6, false, true);
    loss.series.push_back({"learning rate (right axis)", ep, lr, kGray, true, false, true});
  }

  Panel acc;
  acc.title = "Accuracy";
  acc.xlabel = "Epoch";
  acc.x = x_padded;
  const bool show_f1 = any_finite_nonzero(vf);
  acc.ylabel = show_f1 ? "Accuracy, F1 (%)" : "Accuracy (%)";
  const auto [a_lo, a_hi] = show_f1 ? finite_range({&ta, &va, &vf}) : finite_range({&ta, &va});
  {
    Axis y = make_axis(std::max(0.0, a_lo - 2), std::min(100.0, a_hi + 2), 6, false, true);
    acc.y = make_axis(std::max(0.0, y.lo), std::min(100.0, y.hi), 6, false, true);
  }
  acc.series.push_back({"train acc", ep, ta, kBlue, false, true, false});
  const bool has_val = std::any_of(va.begin(), va.end(), [](double v) { return std::isfinite(v); });
  if (has_val) acc.series.push_back({"val acc", ep, va, kOrange, false, true, false});
  if (show_f1) acc.series.push_back({"val macro F1", ep, vf, kGreen, false, true, false});
  if (has_val) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < va.size(); ++i)
      if (std::isfinite(va[i]) && (!std::isfinite(va[best]) || va[i] > va[best])) best = i;
    acc.series.push_back({fmt::format("best val {:.1f}% (epoch {})", va[best], history[best].epoch),
                          {ep[best], ep[best]},
                          {acc.y.lo, acc.y.hi},
                          kRed,
                          true,
                          false,
                          false,
                          true});
  }

  // Layout: title, then two equal slots side by side.
  const int W = 1320, H = 560;
  Canvas cv(W, H);
  const double title_h = measure(title, kTitleFont).h;
  cv.text(title, W / 2.0, 16, kTitleFont, kInk, HAlign::kCenter, VAlign::kTop);
  const double top = 16 + title_h + 20;
  const double slot_w = (W - 30) / 2.0;
  const PanelMargins m1 = panel_margins(loss), m2 = panel_margins(acc);
  PanelMargins a = m1, b = m2;  // same plot heights in both panels
  a.top = b.top = std::max(m1.top, m2.top);
  a.bottom = b.bottom = std::max(m1.bottom, m2.bottom);
  draw_panel(cv, loss, Box{10, top, slot_w, H - top - 6}, a);
  draw_panel(cv, acc, Box{20 + slot_w, top, slot_w, H - top - 6}, b);
  save_png(path, cv);
}

void plot_per_class_png(const std::string& path, const Metrics& m,
                        const std::vector<std::string>& class_names, const std::string& title) {
  const int n = m.num_classes;
  FER_CHECK(n > 0 && static_cast<int>(class_names.size()) == n && static_cast<int>(m.precision.size()) == n &&
                static_cast<int>(m.recall.size()) == n && static_cast<int>(m.f1.size()) == n &&
                static_cast<int>(m.support.size()) == n,
            DataError, "plot_per_class_png: {} class names for {} classes", class_names.size(), n);

  const Font value_font{n <= 7 ? 0.4 : 0.35, 1.0};
  const Font support_font{0.42, 1.0};
  const double label_h = measure("Ag", kLabelFont).h + measure("Ag", kLabelFont).descent;
  const double tick_h = measure("Ag", kTickFont).h + measure("Ag", kTickFont).descent;
  const double name_w = max_text_width(class_names, kTickFont);
  const double group_w = std::clamp(1000.0 / n, 112.0, 170.0);
  const bool rotate = name_w > group_w - 10;
  std::vector<std::string> rotated_names;
  for (int c = 0; c < n; ++c) rotated_names.push_back(fmt::format("{} (n={})", class_names[c], m.support[c]));
  const double x_labels_h =
      rotate ? max_text_width(rotated_names, kTickFont) : tick_h + 6 + measure("0", support_font).h + 4;

  const Axis y = make_axis(0, 1, 5, false, true);
  const double left = 16 + label_h + 12 + max_text_width(y.labels, kTickFont) + 8;
  const double plot_w = std::max(group_w * n, 440.0);
  const std::string subtitle =
      fmt::format("macro precision {:.3f}, recall {:.3f}, F1 {:.3f}; accuracy {}", m.macro_precision,
                  m.macro_recall, m.macro_f1, percent(m.accuracy));
  const double title_h = measure(title, kTitleFont).h, sub_h = measure(subtitle, kSubtitleFont).h;
  const double legend_h = measure("Ag", kLegendFont).h + 14;
  const double top = 18 + title_h + 12 + sub_h + 14 + legend_h + 10;
  const double plot_h = 380;
  const double bottom = 10 + x_labels_h + 14 + label_h + 16;
  const int W = static_cast<int>(std::ceil(std::max(
      left + plot_w + 24, std::max(measure(title, kTitleFont).w, measure(subtitle, kSubtitleFont).w) + 40)));
  const int H = static_cast<int>(std::ceil(top + plot_h + bottom));
  Canvas cv(W, H);
  const Box area{left, top, plot_w, plot_h};
  const double y_top = 1.1;  // headroom above 1.0 for the value labels
  auto sy = [&](double v) { return area.bottom() - v / y_top * area.h; };

  // Title over the plot when it fits there, else over the image.
  const double head_w = std::max(measure(title, kTitleFont).w, measure(subtitle, kSubtitleFont).w);
  const double cx = std::clamp(area.x + area.w / 2, 16 + head_w / 2, W - 16 - head_w / 2);
  cv.text(title, cx, 18, kTitleFont, kInk, HAlign::kCenter, VAlign::kTop);
  cv.text(subtitle, cx, 18 + title_h + 12, kSubtitleFont, kMuted, HAlign::kCenter, VAlign::kTop);

  for (std::size_t i = 0; i < y.ticks.size(); ++i) {
    const double yy = sy(y.ticks[i]);
    cv.line(area.x, yy, area.right(), yy, kGrid);
    cv.line(area.x - 4, yy, area.x, yy, kFrame);
    cv.text(y.labels[i], area.x - 8, yy, kTickFont, kInk, HAlign::kRight, VAlign::kCenter);
  }

  const std::array<Color, 3> colors = {kBlue, kOrange, kGreen};
  const std::array<const char*, 3> names = {"Precision", "Recall", "F1"};
  const double slot = area.w / n;
  const double bar_w = std::min(46.0, slot * 0.78 / 3);
  for (int c = 0; c < n; ++c) {
    const double gx = area.x + slot * (c + 0.5) - 1.5 * bar_w;
    const std::array<double, 3> vals = {m.precision[c], m.recall[c], m.f1[c]};
    for (int k = 0; k < 3; ++k) {
      const double v = std::clamp(std::isfinite(vals[k]) ? vals[k] : 0.0, 0.0, 1.0);
      const Box bar{gx + k * bar_w + 1, sy(v), bar_w - 2, area.bottom() - sy(v)};
      if (bar.h > 0.5) cv.fill(bar, colors[k]);
      const std::string s = fmt::format("{:.2f}", v);
      if (measure(s, value_font).w <= bar_w - 3)
        cv.text(s, bar.x + bar.w / 2, bar.y - 5, value_font, kInk, HAlign::kCenter);
    }
    const double name_x = area.x + slot * (c + 0.5);
    if (rotate) {
      cv.text_up(rotated_names[c], name_x, area.bottom() + 10, kTickFont, kInk, HAlign::kCenter,
                 VAlign::kTop);
    } else {
      cv.text(class_names[c], name_x, area.bottom() + 10, kTickFont, kInk, HAlign::kCenter, VAlign::kTop);
      cv.text(fmt::format("n={}", m.support[c]), name_x, area.bottom() + 10 + tick_h + 6, support_font,
              kMuted, HAlign::kCenter, VAlign::kTop);
    }
  }
  cv.line(area.x, area.bottom(), area.right(), area.bottom(), kFrame);
  cv.outline(area, kFrame);

  // Legend: one row above the plot, right-aligned.
  double lx = area.right();
  const double ly = area.y - 10 - legend_h / 2;
  for (int k = 2; k >= 0; --k) {
    const double tw = measure(names[k], kLegendFont).w;
    lx -= tw;
    cv.text(names[k], lx, ly, kLegendFont, kInk, HAlign::kLeft, VAlign::kCenter);
    lx -= 8 + 14;
    cv.fill(Box{lx, ly - 7, 14, 14}, colors[k]);
    lx -= 20;
  }

  const double label_desc = measure("g", kLabelFont).descent;
  cv.text("Class", area.x + area.w / 2, H - 16 - label_desc, kLabelFont, kInk, HAlign::kCenter);
  cv.text_up("Score", 16, area.y + area.h / 2, kLabelFont, kInk, HAlign::kLeft, VAlign::kCenter);
  save_png(path, cv);
}

void plot_fold_bars_png(const std::string& path, const std::vector<int>& folds,
                        const std::vector<double>& values, double mean, double std, const std::string& title,
                        const std::string& ylabel) {
  const int n = static_cast<int>(values.size());
  FER_CHECK(n > 0 && folds.size() == values.size(), DataError, "plot_fold_bars_png: {} folds for {} values",
            folds.size(), values.size());
  std::vector<std::string> names;
  for (int f : folds) names.push_back(fmt::format("fold {}", f));
  const Font value_font{n <= 10 ? 0.46 : 0.38, 1.0};
  const double label_h = measure("Ag", kLabelFont).h + measure("Ag", kLabelFont).descent;
  const double tick_h = measure("Ag", kTickFont).h + measure("Ag", kTickFont).descent;
  const double slot_w = std::clamp(900.0 / n, std::max(64.0, max_text_width(names, kTickFont) + 12), 130.0);
  const Axis y = make_axis(0, 100, 5, false, true);
  const double left = 16 + label_h + 12 + max_text_width(y.labels, kTickFont) + 8;
  const double plot_w = std::max(slot_w * n, 480.0);
  const std::string subtitle = fmt::format("mean {:.2f}% +- {:.2f}% (sample std) over {} fold{}", 100 * mean,
                                           100 * std, n, n == 1 ? "" : "s");
  const double title_h = measure(title, kTitleFont).h, sub_h = measure(subtitle, kSubtitleFont).h;
  const double legend_h = measure("Ag", kLegendFont).h + 14;
  const double top = 18 + title_h + 12 + sub_h + 14 + legend_h + 10;
  const double plot_h = 360;
  const double bottom = 10 + tick_h + 14 + label_h + 16;
  const int W = static_cast<int>(std::ceil(std::max(
      left + plot_w + 24, std::max(measure(title, kTitleFont).w, measure(subtitle, kSubtitleFont).w) + 40)));
  const int H = static_cast<int>(std::ceil(top + plot_h + bottom));
  Canvas cv(W, H);
  const Box area{left, top, plot_w, plot_h};
  const double y_top = 110;  // headroom above 100 % for the value labels
  auto sy = [&](double pct) { return area.bottom() - std::clamp(pct, 0.0, y_top) / y_top * area.h; };

  const double head_w = std::max(measure(title, kTitleFont).w, measure(subtitle, kSubtitleFont).w);
  const double cx = std::clamp(area.x + area.w / 2, 16 + head_w / 2, W - 16 - head_w / 2);
  cv.text(title, cx, 18, kTitleFont, kInk, HAlign::kCenter, VAlign::kTop);
  cv.text(subtitle, cx, 18 + title_h + 12, kSubtitleFont, kMuted, HAlign::kCenter, VAlign::kTop);

  for (std::size_t i = 0; i < y.ticks.size(); ++i) {
    const double yy = sy(y.ticks[i]);
    cv.line(area.x, yy, area.right(), yy, kGrid);
    cv.line(area.x - 4, yy, area.x, yy, kFrame);
    cv.text(y.labels[i], area.x - 8, yy, kTickFont, kInk, HAlign::kRight, VAlign::kCenter);
  }
  // The +-std band under the bars, the mean line over them.
  const Color band(225, 225, 250);
  const double m_pct = 100 * (std::isfinite(mean) ? mean : 0.0);
  const double s_pct = 100 * (std::isfinite(std) ? std : 0.0);
  if (s_pct > 0)
    cv.fill(Box{area.x + 1, sy(m_pct + s_pct), area.w - 2, sy(m_pct - s_pct) - sy(m_pct + s_pct)}, band);
  const double slot = area.w / n;
  const double bar_w = std::min(56.0, slot * 0.6);
  for (int k = 0; k < n; ++k) {
    const double v = 100 * std::clamp(std::isfinite(values[k]) ? values[k] : 0.0, 0.0, 1.0);
    const double x = area.x + slot * (k + 0.5);
    const Box bar{x - bar_w / 2, sy(v), bar_w, area.bottom() - sy(v)};
    if (bar.h > 0.5) cv.fill(bar, kBlue);
    cv.text(names[k], x, area.bottom() + 10, kTickFont, kInk, HAlign::kCenter, VAlign::kTop);
  }
  cv.polyline({{area.x, sy(m_pct)}, {area.right(), sy(m_pct)}}, kRed, 1.8, true);
  for (int k = 0; k < n; ++k) {  // value labels over the mean line, on a white patch
    const double v = 100 * std::clamp(std::isfinite(values[k]) ? values[k] : 0.0, 0.0, 1.0);
    const std::string s = fmt::format("{:.1f}", v);
    const TextSize ts = measure(s, value_font);
    const double x = area.x + slot * (k + 0.5), base = sy(v) - 6;
    cv.fill(Box{x - ts.w / 2 - 3, base - ts.h - 3, ts.w + 6, ts.h + 6}, kWhite);
    cv.text(s, x, base, value_font, kInk, HAlign::kCenter);
  }
  cv.outline(area, kFrame);

  // Legend: one row above the plot, right-aligned.
  const std::string mean_label = fmt::format("mean {:.1f}%", m_pct);
  const std::string std_label = fmt::format("+- std {:.1f}%", s_pct);
  const double ly = area.y - 10 - legend_h / 2;
  double lx = area.right() - measure(std_label, kLegendFont).w;
  cv.text(std_label, lx, ly, kLegendFont, kInk, HAlign::kLeft, VAlign::kCenter);
  lx -= 8 + 22;
  cv.fill(Box{lx, ly - 7, 22, 14}, band);
  lx -= 20 + measure(mean_label, kLegendFont).w;
  cv.text(mean_label, lx, ly, kLegendFont, kInk, HAlign::kLeft, VAlign::kCenter);
  lx -= 8 + 28;
  cv.polyline({{lx, ly}, {lx + 28, ly}}, kRed, 1.8, true);

  const double label_desc = measure("g", kLabelFont).descent;
  cv.text("Fold", area.x + area.w / 2, H - 16 - label_desc, kLabelFont, kInk, HAlign::kCenter);
  cv.text_up(ylabel, 16, area.y + area.h / 2, kLabelFont, kInk, HAlign::kLeft, VAlign::kCenter);
  save_png(path, cv);
}

std::string history_csv(const std::vector<EpochRecord>& history) {
  std::string out = std::string(kHistoryHeader) + "\n";
  // fmt's "{}" prints the shortest representation that round-trips, independent of the locale.
  for (const auto& r : history)
    out += fmt::format("{},{},{},{},{},{},{},{}\n", r.epoch, r.lr, r.train_loss, r.train_acc, r.val_loss,
                       r.val_acc, r.val_macro_f1, r.seconds);
  return out;
}

std::vector<EpochRecord> parse_history_csv(const std::string& text, const std::string& origin) {
  static const std::array<const char*, 8> kColumns = {"epoch",    "lr",      "train_loss",   "train_acc",
                                                      "val_loss", "val_acc", "val_macro_f1", "seconds"};
  std::vector<EpochRecord> out;
  bool header_seen = false;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    if (!header_seen) {
      FER_CHECK(line == kHistoryHeader, DataError, "{}:{}: expected header '{}', got '{}'", origin, line_no,
                kHistoryHeader, line);
      header_seen = true;
      continue;
    }
    std::vector<std::string> fields;
    std::size_t f0 = 0;
    while (true) {
      const std::size_t comma = line.find(',', f0);
      fields.push_back(trim(line.substr(f0, comma == std::string::npos ? std::string::npos : comma - f0)));
      if (comma == std::string::npos) break;
      f0 = comma + 1;
    }
    FER_CHECK(fields.size() == kColumns.size(), DataError, "{}:{}: expected {} columns, got {}", origin,
              line_no, kColumns.size(), fields.size());
    std::array<double, 8> v{};
    for (std::size_t k = 0; k < fields.size(); ++k) {
      const std::string& f = fields[k];
      const char* b = f.data();
      const char* e = b + f.size();
      const auto res = std::from_chars(b, e, v[k]);
      FER_CHECK(!f.empty() && res.ec == std::errc() && res.ptr == e, DataError,
                "{}:{}: column '{}': '{}' is not a number", origin, line_no, kColumns[k], f);
    }
    FER_CHECK(v[0] == std::floor(v[0]) && std::abs(v[0]) < 1e9, DataError,
              "{}:{}: column 'epoch': '{}' is not an integer", origin, line_no, fields[0]);
    EpochRecord r;
    r.epoch = static_cast<int>(v[0]);
    r.lr = v[1];
    r.train_loss = v[2];
    r.train_acc = v[3];
    r.val_loss = v[4];
    r.val_acc = v[5];
    r.val_macro_f1 = v[6];
    r.seconds = v[7];
    out.push_back(r);
  }
  FER_CHECK(header_seen, DataError, "{}:1: empty file, expected header '{}'", origin, kHistoryHeader);
  return out;
}

}  // namespace fer::eval
