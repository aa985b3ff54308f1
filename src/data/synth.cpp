#include "fer/data/synth.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/core/parallel.hpp"
#include "fer/core/rng.hpp"

namespace fer::data {
namespace {

namespace fs = std::filesystem;

constexpr double kPi = 3.14159265358979323846;
constexpr const char* kMarker = ".fer_synth";
constexpr int kNumClasses = 7;
constexpr int kShift = 4;  // sub-pixel bits of the drawing calls
constexpr double kShiftScale = 1 << kShift;

// Portable draws: the std distributions differ between standard libraries, the engine does not.
class Draw {
 public:
  explicit Draw(uint64_t seed) : rng_(seed) {}
  double uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  bool chance(double p) { return uniform() < p; }
  int sign() { return chance(0.5) ? 1 : -1; }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 1e-300) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * kPi * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * kPi * u2);
  }

 private:
  std::mt19937_64 rng_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Facial action parameters, in face units (the head is 2 wide and 2.5 tall, y points down).
struct Expression {
  double brow_raise;    // whole brow up
  double brow_inner;    // inner ends up (+) or down toward the nose (-)
  double brow_arch;     // middle of the brow up
  double brow_squeeze;  // inner ends pulled toward the centre
  double eye_open;      // 1 = relaxed
  double lower_lid;     // lower lid pushed up (smiling / squinting eyes)
  double lid_droop;     // outer upper lid down
  double mouth_hw;      // mouth half-width
  double mouth_curve;   // corners up (+) / down (-)
  double mouth_open;    // opening at the centre
  double mouth_round;   // 0 = opening follows the lips, 1 = O shape
  double snarl;         // one-sided upper-lip raise
  double lip_press;     // lips pressed thin
  double teeth;         // teeth visible in the opening
  double cheeks;        // nasolabial folds
  double nose_wrinkle;  // wrinkles on the bridge, nostrils pulled up
  double forehead;      // horizontal forehead lines
  double glabella;      // vertical lines between the brows
  double chin;          // chin raised (pouting)
};

// angry disgust fear happy sad surprise neutral
// clang-format off
const Expression kExpressions[kNumClasses] = {
    // raise inner  arch  squeeze open  lowlid droop hw    curve  mopen round snarl press teeth cheek nosew fore  glab  chin
    {-0.08, -0.19, 0.00, 0.06, 0.70, 0.20, 0.00, 0.21, -0.04, 0.00, 0.0, 0.00, 1.0, 0.0, 0.0, 0.3, 0.0, 1.0, 0.3},  // angry
    {-0.06, -0.03, 0.00, 0.02, 0.50, 0.45, 0.00, 0.30, -0.10, 0.06, 0.0, 0.21, 0.0, 0.9, 0.9, 1.0, 0.0, 0.0, 0.2},  // disgust
    {0.14, 0.12, -0.07, 0.08, 1.50, 0.00, 0.00, 0.45, -0.07, 0.15, 0.0, 0.00, 0.0, 0.8, 0.0, 0.0, 0.6, 0.4, 0.0},   // fear
    {0.03, 0.00, 0.02, 0.00, 0.70, 0.55, 0.00, 0.45, 0.22, 0.16, 0.0, 0.00, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0},     // happy
    {0.00, 0.17, -0.05, 0.02, 0.72, 0.00, 0.70, 0.28, -0.17, 0.00, 0.0, 0.00, 0.3, 0.0, 0.0, 0.0, 0.2, 0.2, 0.8},   // sad
    {0.20, 0.02, 0.12, 0.00, 1.65, 0.00, 0.00, 0.18, 0.00, 0.46, 1.0, 0.00, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0},     // surprise
    {0.00, 0.00, 0.00, 0.00, 1.00, 0.00, 0.00, 0.30, 0.00, 0.00, 0.0, 0.00, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0},     // neutral
};
// clang-format on

// Blends from neutral toward the class expression by `k` (the expression intensity).
Expression blend(const Expression& a, const Expression& b, double k) {
  static constexpr double Expression::*kFields[] = {
      &Expression::brow_raise,  &Expression::brow_inner, &Expression::brow_arch,   &Expression::brow_squeeze,
      &Expression::eye_open,    &Expression::lower_lid,  &Expression::lid_droop,   &Expression::mouth_hw,
      &Expression::mouth_curve, &Expression::mouth_open, &Expression::mouth_round, &Expression::snarl,
      &Expression::lip_press,   &Expression::teeth,      &Expression::cheeks,      &Expression::nose_wrinkle,
      &Expression::forehead,    &Expression::glabella,   &Expression::chin};
  static_assert(sizeof(kFields) / sizeof(kFields[0]) * sizeof(double) == sizeof(Expression),
                "blend() must list every field of Expression");
  Expression out{};
  for (const auto f : kFields) out.*f = a.*f + k * (b.*f - a.*f);
  return out;
}

cv::Scalar scale(const cv::Scalar& c, double f) { return cv::Scalar(c[0] * f, c[1] * f, c[2] * f); }
cv::Scalar mix(const cv::Scalar& a, const cv::Scalar& b, double t) {
  return cv::Scalar(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), a[2] + t * (b[2] - a[2]));
}

using Curve = std::vector<cv::Point2d>;  // points in face units

// Canvas in render pixels plus the face -> pixel mapping (scale, in-plane rotation, yaw).
class Scene {
 public:
  Scene(cv::Mat& canvas, double cx, double cy, double px_per_unit, double angle_rad, double yaw)
      : img_(canvas),
        cx_(cx),
        cy_(cy),
        s_(px_per_unit),
        c_(std::cos(angle_rad)),
        sn_(std::sin(angle_rad)),
        cyaw_(std::cos(yaw)),
        syaw_(std::sin(yaw)) {}

  // Face point -> pixel. depth 0: silhouette (no yaw shift); 1: face surface; >1: sticks out.
  cv::Point2d map(double u, double v, double depth = 1.0) const {
    if (depth > 0.0) {
      const double uc = std::clamp(u, -1.0, 1.0);
      u = u + uc * (cyaw_ - 1.0) + std::sqrt(std::max(0.0, 1.0 - uc * uc)) * syaw_ * depth;
    }
    return {cx_ + s_ * (c_ * u - sn_ * v), cy_ + s_ * (sn_ * u + c_ * v)};
  }
  // Pixel -> face units, ignoring yaw (for shading).
  cv::Point2d unmap(double x, double y) const {
    const double dx = (x - cx_) / s_, dy = (y - cy_) / s_;
    return {c_ * dx + sn_ * dy, -sn_ * dx + c_ * dy};
  }

  std::vector<cv::Point> pixels(const Curve& pts, double depth) const {
    std::vector<cv::Point> out;
    out.reserve(pts.size());
    for (const auto& p : pts) {
      const cv::Point2d q = map(p.x, p.y, depth);
      out.emplace_back(cvRound(q.x * kShiftScale), cvRound(q.y * kShiftScale));
    }
    return out;
  }
  void fill(const Curve& pts, const cv::Scalar& color, double depth = 1.0) {
    std::vector<std::vector<cv::Point>> polys{pixels(pts, depth)};
    cv::fillPoly(img_, polys, color, cv::LINE_AA, kShift);
  }
  void stroke(const Curve& pts, const cv::Scalar& color, double thick, double depth = 1.0) {
    std::vector<std::vector<cv::Point>> polys{pixels(pts, depth)};
    const int t = std::max(1, static_cast<int>(std::lround(thick * s_)));
    cv::polylines(img_, polys, false, color, t, cv::LINE_AA, kShift);
  }
  void fill_mask(cv::Mat& mask, const Curve& pts, double depth) const {
    std::vector<std::vector<cv::Point>> polys{pixels(pts, depth)};
    cv::fillPoly(mask, polys, cv::Scalar(255), cv::LINE_AA, kShift);
  }

 private:
  cv::Mat& img_;
  double cx_, cy_, s_, c_, sn_, cyaw_, syaw_;
};

Curve ellipse_curve(double cx, double cy, double rx, double ry, int n = 48) {
  Curve c;
  c.reserve(n);
  for (int i = 0; i < n; ++i) {
    const double t = 2.0 * kPi * i / n;
    c.emplace_back(cx + rx * std::cos(t), cy + ry * std::sin(t));
  }
  return c;
}

// Egg-shaped head outline: narrower at the jaw.
cv::Point2d head_point(double t, double jaw, double grow = 1.0) {
  const double y = 1.25 * std::sin(t);
  double x = std::cos(t);
  if (y > 0) x *= 1.0 - jaw * (y / 1.25) * (y / 1.25);
  return {x * grow, y * grow};
}

// Identity of the rendered person (independent of the expression).
struct Person {
  double eye_dx, eye_y, eye_w, iris, gaze_x, gaze_y;
  double brow_gap, brow_thick, brow_len;
  double nose_y, nose_w;
  double mouth_y, lip_th;
  double jaw;
  int light_side;
  int snarl_side;
  bool hair;
  double hairline, hair_side, hair_vol;
};

void draw_face(Scene& sc, const Expression& e, const Person& p, const cv::Scalar& skin,
               const cv::Scalar& brow_col, const cv::Scalar& iris_col, const cv::Scalar& lip_col) {
  const auto faint = [&](double a) { return mix(skin, scale(skin, 0.55), std::clamp(a, 0.0, 1.0)); };

  // ---- eyes ----
  for (int s = -1; s <= 1; s += 2) {
    const double ex = s * p.eye_dx, ey = p.eye_y, ew = p.eye_w;
    const double open = std::max(0.08, e.eye_open);
    const double eh_u = ew * 0.4 * open, eh_l = ew * 0.28 * open;
    const int n = 21;
    Curve upper, lower;
    for (int i = 0; i < n; ++i) {
      const double t = -1.0 + 2.0 * i / (n - 1);
      const double bump = std::pow(1.0 - t * t, 0.7);
      const double outer = std::max(0.0, t * s);  // 0 at the inner half, up to 1 at the outer corner
      const double yu = ey - eh_u * bump + e.lid_droop * eh_u * 0.7 * outer * bump * 1.8;
      double yl = ey + eh_l * (1.0 - 1.6 * e.lower_lid) * bump;
      yl = std::max(yl, yu + 0.006);
      upper.emplace_back(ex + t * ew, yu);
      lower.emplace_back(ex + t * ew, yl);
    }
    Curve sclera = upper;
    sclera.insert(sclera.end(), lower.rbegin(), lower.rend());
    sc.fill(sclera, mix(skin, cv::Scalar(235, 238, 240), 0.85));
    // Iris and pupil, clipped to the lids.
    const auto clipped_disc = [&](double r) {
      Curve c;
      const double icx = ex + p.gaze_x * ew * 0.35, icy = ey + p.gaze_y * 0.02;
      for (int i = 0; i < 32; ++i) {
        const double a = 2.0 * kPi * i / 32;
        double x = icx + r * std::cos(a);
        x = std::clamp(x, ex - ew * 0.98, ex + ew * 0.98);
        const double t = (x - ex) / ew;
        const int j = std::clamp(static_cast<int>(std::lround((t + 1.0) * 0.5 * (n - 1))), 0, n - 1);
        c.emplace_back(x, std::clamp(icy + r * std::sin(a), upper[j].y, lower[j].y));
      }
      return c;
    };
    sc.fill(clipped_disc(ew * p.iris), iris_col);
    sc.fill(clipped_disc(ew * p.iris * 0.45), cv::Scalar(15, 15, 15));
    sc.stroke(upper, scale(skin, 0.25), 0.04);
    sc.stroke(lower, scale(skin, 0.6), 0.014);
    if (e.lower_lid > 0.15) {  // cheek push under the eye
      Curve bag;
      for (int i = 0; i <= 10; ++i) {
        const double t = -0.8 + 1.6 * i / 10;
        bag.emplace_back(ex + t * ew, lower[n / 2].y + 0.07 - 0.04 * t * t);
      }
      sc.stroke(bag, faint(e.lower_lid * 1.2), 0.018);
    }
  }

  // ---- brows ----
  const double brow_base = p.eye_y - p.brow_gap - e.brow_raise;
  for (int s = -1; s <= 1; s += 2) {
    const double inner_x = 0.09 + 0.04 - e.brow_squeeze;
    Curve top, bottom;
    const int n = 13;
    for (int i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) / (n - 1);
      const double x = s * (inner_x + t * p.brow_len);
      const double y =
          brow_base - e.brow_inner * (1.0 - t) - (0.05 + e.brow_arch) * 4.0 * t * (1.0 - t) + 0.03 * t;
      const double w = p.brow_thick * (1.0 - 0.55 * t);
      top.emplace_back(x, y - 0.6 * w);
      bottom.emplace_back(x, y + 0.4 * w);
    }
    Curve brow = top;
    brow.insert(brow.end(), bottom.rbegin(), bottom.rend());
    sc.fill(brow, brow_col);
    if (e.glabella > 0.2) {
      const double y0 = brow_base - e.brow_inner + 0.01;
      sc.stroke({{s * 0.045, y0}, {s * 0.055, y0 + 0.13}}, faint(e.glabella), 0.016);
    }
  }
  if (e.forehead > 0.2) {
    const double half = e.forehead > 0.8 ? 0.45 : 0.25;
    for (int j = 0; j < 3; ++j) {
      Curve c;
      const double y0 = brow_base - 0.12 - 0.07 * j;
      for (int i = 0; i <= 12; ++i) {
        const double x = -half + 2.0 * half * i / 12;
        c.emplace_back(x, y0 + 0.05 * (x / half) * (x / half));
      }
      sc.stroke(c, faint(e.forehead * 0.8), 0.014);
    }
  }

  // ---- nose ----
  const double ny = p.nose_y - 0.035 * e.nose_wrinkle;
  const double nw = p.nose_w * (1.0 + 0.25 * e.nose_wrinkle + 0.15 * e.lip_press);
  const double ls = p.light_side;
  sc.stroke({{ls * 0.07, p.eye_y + 0.04}, {ls * 0.085, ny - 0.12}, {ls * 0.1, ny - 0.05}}, scale(skin, 0.75),
            0.02, 1.3);
  Curve base;
  for (int i = 0; i <= 12; ++i) {
    const double t = -1.0 + 2.0 * i / 12;
    base.emplace_back(t * nw, ny + 0.035 * (1.0 - t * t) - 0.02);
  }
  sc.stroke(base, scale(skin, 0.6), 0.022, 1.5);
  for (int s = -1; s <= 1; s += 2) {
    sc.fill(ellipse_curve(s * nw * 0.5, ny, 0.032, 0.018, 16), scale(skin, 0.3), 1.5);
    Curve wing;
    for (int i = 0; i <= 8; ++i) {
      const double a = -kPi * 0.5 + kPi * 0.9 * i / 8;
      wing.emplace_back(s * (nw * 0.85 + 0.04 * std::cos(a)), ny - 0.035 + 0.04 * std::sin(a));
    }
    sc.stroke(wing, scale(skin, 0.6), 0.018, 1.3);
  }
  if (e.nose_wrinkle > 0.3) {
    for (int j = 0; j < 3; ++j) {
      const double y = p.eye_y + 0.03 + 0.045 * j;
      sc.stroke({{-0.09, y + 0.02}, {-0.03, y}, {0.03, y}, {0.09, y + 0.02}}, faint(e.nose_wrinkle * 0.9),
                0.015, 1.1);
    }
  }

  // ---- mouth ----
  const double my = std::max(p.mouth_y, ny + 0.17);
  const double hw = e.mouth_hw;
  const int n = 33;
  Curve upper, lower, mid;
  double max_gap = 0.0;
  for (int i = 0; i < n; ++i) {
    const double t = -1.0 + 2.0 * i / (n - 1);
    const double m = my - e.mouth_curve * t * t;
    const double lift = e.snarl * std::exp(-std::pow((t - 0.45 * p.snarl_side) / 0.32, 2.0));
    const double shape = (1.0 - e.mouth_round) * std::pow(1.0 - t * t, 0.8) +
                         e.mouth_round * std::sqrt(std::max(0.0, 1.0 - t * t));
    const double o = 0.5 * e.mouth_open * shape;
    const double yu = m - o - lift;
    const double yl = m + o * (1.0 + 3.0 * std::max(0.0, e.mouth_curve));
    upper.emplace_back(t * hw, yu);
    lower.emplace_back(t * hw, yl);
    mid.emplace_back(t * hw, m);
    max_gap = std::max(max_gap, yl - yu);
  }
  if (e.cheeks > 0.2) {  // nasolabial folds, one-sided with a snarl
    for (int s = -1; s <= 1; s += 2) {
      if (e.snarl > 0.05 && s != p.snarl_side) continue;
      Curve fold;
      for (int i = 0; i <= 10; ++i) {
        const double t = i / 10.0;
        const double x = s * (nw + 0.05 + t * (hw - nw + 0.04) + 0.06 * std::sin(kPi * t));
        fold.emplace_back(x, ny - 0.03 + t * (my - e.mouth_curve - ny + 0.06));
      }
      sc.stroke(fold, faint(e.cheeks), 0.02);
    }
  }
  if (max_gap > 0.012) {
    Curve hole = upper;
    hole.insert(hole.end(), lower.rbegin(), lower.rend());
    sc.fill(hole, cv::Scalar(35, 30, 55));
    if (e.teeth > 0.2) {
      Curve teeth_top, teeth_bot;
      for (int i = 2; i < n - 2; ++i) {
        teeth_top.push_back(upper[i]);
        teeth_bot.emplace_back(upper[i].x, std::min(lower[i].y, upper[i].y + 0.075));
      }
      Curve teeth = teeth_top;
      teeth.insert(teeth.end(), teeth_bot.rbegin(), teeth_bot.rend());
      sc.fill(teeth, mix(cv::Scalar(35, 30, 55), cv::Scalar(225, 232, 238), std::min(1.0, e.teeth)));
    }
    sc.stroke(upper, lip_col, p.lip_th);
    sc.stroke(lower, lip_col, p.lip_th * 1.3);
  } else {
    const double press = std::clamp(e.lip_press, 0.0, 1.0);
    Curve lip_lower;
    for (int i = 5; i < n - 5; ++i) lip_lower.emplace_back(mid[i].x, mid[i].y + 0.045 * (1.0 - 0.6 * press));
    sc.stroke(lip_lower, mix(lip_col, skin, 0.35 + 0.5 * press), p.lip_th * (1.6 - press));
    sc.stroke(mid, mix(lip_col, scale(skin, 0.25), 0.6 + 0.4 * press), p.lip_th * (0.9 + 0.5 * press));
  }
  if (e.chin > 0.3) {
    Curve c;
    for (int i = 0; i <= 8; ++i) {
      const double t = -1.0 + 2.0 * i / 8;
      c.emplace_back(t * 0.16, my + 0.2 + 0.03 * (1.0 - t * t));
    }
    sc.stroke(c, faint(e.chin * 0.7), 0.018);
  }
}

// What the thermal renderer needs to draw the same face as the visible one.
struct FaceGeometry {
  int size = 0, rs = 0;
  double cx = 0, cy = 0, ppu = 0, angle = 0, yaw = 0;
  Person p{};
  Expression e{};
  cv::Mat head_mask;  // anti-aliased head silhouette at render size (CV_8U)
  cv::Mat hair_mask;  // hair region at render size (CV_8U)
  cv::Mat body_mask;  // neck + clothes at render size (CV_8U)
};

cv::Mat render_face_impl(int cls, int size, uint64_t seed, bool gray, FaceGeometry* geo);

}  // namespace

const std::vector<std::string>& synth_class_names() {
  static const std::vector<std::string> names = {"angry", "disgust",  "fear",   "happy",
                                                 "sad",   "surprise", "neutral"};
  return names;
}

const std::vector<std::string>& synth_split_signal_class_names() {
  static const std::vector<std::string> names = {"happy_forehead", "happy_nose", "sad_forehead", "sad_nose"};
  return names;
}

cv::Mat render_synthetic_face(int cls, int size, uint64_t seed, bool gray) {
  return render_face_impl(cls, size, seed, gray, nullptr);
}

namespace {

cv::Mat render_face_impl(int cls, int size, uint64_t seed, bool gray, FaceGeometry* geo) {
  FER_CHECK(cls >= 0 && cls < kNumClasses, ConfigError, "synth: class {} out of range 0..{}", cls,
            kNumClasses - 1);
  FER_CHECK(size >= 16 && size <= 4096, ConfigError, "synth: size {} out of range 16..4096", size);
  Draw d(seed);

  // Render at a multiple of the size, so sub-pixel line widths survive, then downscale.
  const int k = std::clamp((192 + size - 1) / size, 2, 8);
  const int rs = size * k;

  // ---- background: colour, low-frequency texture, optional stripes ----
  const double bg_level = d.uniform(25, 230);
  const cv::Scalar bg_tint(d.uniform(0.8, 1.2), d.uniform(0.8, 1.2), d.uniform(0.8, 1.2));
  const int grid = 2 + static_cast<int>(d.uniform() * 6);
  cv::Mat small(grid, grid, CV_8UC3);
  const double tex_amp = d.uniform(0, 35);
  for (int y = 0; y < grid; ++y) {
    auto* row = small.ptr<cv::Vec3b>(y);
    for (int x = 0; x < grid; ++x) {
      const double v = tex_amp * (2.0 * d.uniform() - 1.0);
      for (int c = 0; c < 3; ++c)
        row[x][c] = cv::saturate_cast<uint8_t>(bg_level * bg_tint[c] + v + d.uniform(-6, 6));
    }
  }
  cv::Mat canvas;
  cv::resize(small, canvas, cv::Size(rs, rs), 0, 0, cv::INTER_CUBIC);
  if (d.chance(0.3)) {  // stripes: sin(a x + b y) from separable tables
    const double fr = d.uniform(2, 8) * 2.0 * kPi / rs, ang = d.uniform(0, kPi), amp = d.uniform(5, 25);
    std::vector<double> sx(rs), cx(rs), sy(rs), cy(rs);
    for (int i = 0; i < rs; ++i) {
      sx[i] = std::sin(fr * std::cos(ang) * i);
      cx[i] = std::cos(fr * std::cos(ang) * i);
      sy[i] = std::sin(fr * std::sin(ang) * i);
      cy[i] = std::cos(fr * std::sin(ang) * i);
    }
    for (int y = 0; y < rs; ++y) {
      auto* row = canvas.ptr<cv::Vec3b>(y);
      for (int x = 0; x < rs; ++x) {
        const int v = static_cast<int>(std::lround(amp * (sx[x] * cy[y] + cx[x] * sy[y])));
        for (int c = 0; c < 3; ++c) row[x][c] = cv::saturate_cast<uint8_t>(row[x][c] + v);
      }
    }
  }

  // ---- pose ----
  const double fill = d.uniform(0.6, 0.9);  // face height / frame
  const double ppu = fill * rs / 2.5;       // head is 2.5 units tall
  const double slack = (1.0 - fill) * rs * 0.35;
  const double cx = rs * 0.5 + d.uniform(-1, 1) * slack;
  const double cy = rs * 0.5 + d.uniform(-1, 1) * slack;
  const double angle = d.uniform(-15, 15) * kPi / 180.0;
  const double yaw = d.uniform(-0.22, 0.22);
  Scene sc(canvas, cx, cy, ppu, angle, yaw);

  // ---- person ----
  Person p{};
  p.eye_dx = d.uniform(0.34, 0.42);
  p.eye_y = d.uniform(-0.2, -0.08);
  p.eye_w = d.uniform(0.17, 0.21);
  p.iris = d.uniform(0.42, 0.52);
  p.gaze_x = d.uniform(-1, 1);
  p.gaze_y = d.uniform(-1, 1);
  p.brow_gap = d.uniform(0.2, 0.27);
  p.brow_thick = d.uniform(0.08, 0.11);
  p.brow_len = d.uniform(0.4, 0.5);
  p.nose_y = d.uniform(0.26, 0.36);
  p.nose_w = d.uniform(0.1, 0.14);
  p.mouth_y = d.uniform(0.58, 0.7);
  p.lip_th = d.uniform(0.04, 0.055);
  p.jaw = d.uniform(0.05, 0.25);
  p.light_side = d.sign();
  p.snarl_side = d.sign();
  p.hair = d.chance(0.8);
  p.hairline = d.uniform(-1.08, -0.85);
  p.hair_side = d.uniform(-0.5, 0.1);
  p.hair_vol = d.uniform(0.0, 0.12);

  // ---- colours ----
  const double tone = d.uniform();
  cv::Scalar skin = mix(cv::Scalar(185, 205, 240), cv::Scalar(55, 80, 120), tone);
  skin = cv::Scalar(skin[0] * d.uniform(0.92, 1.08), skin[1] * d.uniform(0.95, 1.05), skin[2]);
  const double hair_dark = d.uniform(0.08, 0.6);
  const cv::Scalar hair_col =
      d.chance(0.2) ? cv::Scalar(90, 170, 215) * hair_dark * 1.4 : cv::Scalar(40, 55, 80) * (0.4 + hair_dark);
  const cv::Scalar brow_col = mix(scale(skin, 0.25), hair_col, 0.4);
  const cv::Scalar iris_col =
      mix(cv::Scalar(30, 45, 70), cv::Scalar(150, 110, 60), d.uniform() * d.uniform());
  const cv::Scalar lip_col = mix(scale(skin, 0.7), cv::Scalar(70, 60, 170), 0.35);
  const cv::Scalar clothes(d.uniform(20, 230), d.uniform(20, 230), d.uniform(20, 230));

  // ---- expression: intensity toward the class, plus per-person jitter ----
  Expression e = blend(kExpressions[6], kExpressions[cls], d.uniform(0.7, 1.0));
  e.brow_raise += 0.015 * d.normal();
  e.brow_inner += 0.015 * d.normal();
  e.eye_open *= d.uniform(0.88, 1.12);
  e.mouth_hw *= d.uniform(0.9, 1.1);
  e.mouth_curve += 0.015 * d.normal();
  e.mouth_open = std::max(0.0, e.mouth_open + 0.01 * d.normal());

  // ---- body, neck, ears ----
  sc.fill({{-2.6, 3.5}, {-2.2, 1.75}, {-1.2, 1.45}, {1.2, 1.45}, {2.2, 1.75}, {2.6, 3.5}}, clothes, 0.0);
  sc.fill({{-0.42, 0.6}, {0.42, 0.6}, {0.5, 1.55}, {0.0, 1.7}, {-0.5, 1.55}}, scale(skin, 0.72), 0.0);
  if (geo) {
    geo->body_mask = cv::Mat::zeros(rs, rs, CV_8U);
    sc.fill_mask(geo->body_mask, {{-0.42, 0.6}, {0.42, 0.6}, {0.5, 1.55}, {0.0, 1.7}, {-0.5, 1.55}}, 0.0);
  }
  for (int s = -1; s <= 1; s += 2)
    sc.fill(ellipse_curve(s * 0.97, 0.0, 0.12, 0.22, 24), scale(skin, 0.85), 0.6);

  // ---- head: shaded skin composited through an anti-aliased mask ----
  Curve head;
  for (int i = 0; i < 96; ++i) head.push_back(head_point(2.0 * kPi * i / 96, p.jaw));
  cv::Mat mask = cv::Mat::zeros(rs, rs, CV_8U);
  sc.fill_mask(mask, head, 0.0);
  const double lx = d.uniform(-1, 1) * 0.12, ly = d.uniform(-1, 0.5) * 0.12;
  for (int y = 0; y < rs; ++y) {
    const uint8_t* m = mask.ptr<uint8_t>(y);
    auto* row = canvas.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rs; ++x) {
      if (!m[x]) continue;
      const cv::Point2d f = sc.unmap(x, y);
      const double r2 = f.x * f.x + (f.y / 1.25) * (f.y / 1.25);
      const double shade = std::max(0.55, 1.06 - 0.28 * r2 + lx * f.x + ly * f.y);
      const double a = m[x] / 255.0;
      for (int c = 0; c < 3; ++c) {
        row[x][c] = cv::saturate_cast<uint8_t>(row[x][c] * (1.0 - a) + a * skin[c] * shade);
      }
    }
  }

  // ---- hair ----
  if (p.hair) {
    Curve hair;
    const double g = 1.0 + p.hair_vol;
    const double tl = kPi - std::asin(std::clamp(p.hair_side / (1.25 * g), -1.0, 1.0));
    const double tr = 2.0 * kPi + std::asin(std::clamp(p.hair_side / (1.25 * g), -1.0, 1.0));
    for (int i = 0; i <= 40; ++i) hair.push_back(head_point(tl + (tr - tl) * i / 40, p.jaw, g));
    const double h = p.hairline;
    const Curve inner = {{0.93, p.hair_side}, {0.86, h + 0.25},  {0.6, h + 0.06},
                         {0.25, h + 0.01},    {0.0, h},          {-0.3, h + 0.02},
                         {-0.65, h + 0.08},   {-0.88, h + 0.28}, {-0.93, p.hair_side}};
    hair.insert(hair.end(), inner.begin(), inner.end());
    sc.fill(hair, hair_col, 0.0);
    if (geo) {
      geo->hair_mask = cv::Mat::zeros(rs, rs, CV_8U);
      sc.fill_mask(geo->hair_mask, hair, 0.0);
    }
  }
  if (geo) {
    geo->size = size;
    geo->rs = rs;
    geo->cx = cx;
    geo->cy = cy;
    geo->ppu = ppu;
    geo->angle = angle;
    geo->yaw = yaw;
    geo->p = p;
    geo->e = e;
    geo->head_mask = mask.clone();
    if (geo->hair_mask.empty()) geo->hair_mask = cv::Mat::zeros(rs, rs, CV_8U);
  }

  draw_face(sc, e, p, skin, brow_col, iris_col, lip_col);

  // ---- downscale, lighting gradient, blur, noise ----
  cv::Mat small_canvas, out;
  cv::resize(canvas, small_canvas, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  small_canvas.convertTo(out, CV_32FC3);
  const double la = d.uniform(0, 2.0 * kPi), lstr = d.uniform(0, 0.45), gain = d.uniform(0.75, 1.2);
  const double gx = std::cos(la) * lstr / (size * 0.5), gy = std::sin(la) * lstr / (size * 0.5);
  const double mid = (size - 1) * 0.5;
  for (int y = 0; y < size; ++y) {
    auto* row = out.ptr<cv::Vec3f>(y);
    for (int x = 0; x < size; ++x)
      row[x] *= static_cast<float>(gain * (1.0 + gx * (x - mid) + gy * (y - mid)));
  }
  if (gray) cv::cvtColor(out, out, cv::COLOR_BGR2GRAY);
  const double blur = d.uniform(0.0, 0.7) * size / 64.0;
  if (blur > 0.25) cv::GaussianBlur(out, out, cv::Size(0, 0), blur, blur, cv::BORDER_REPLICATE);
  const double sigma = d.uniform(1.0, 5.0);
  const int cn = out.channels();
  for (int y = 0; y < size; ++y) {
    float* row = out.ptr<float>(y);
    for (int x = 0; x < size * cn; ++x) row[x] += static_cast<float>(sigma * d.normal());
  }
  cv::Mat out8;
  out.convertTo(out8, CV_8U);
  return out8;
}

}  // namespace

cv::Mat render_synthetic_thermal(int cls, int size, uint64_t seed, int pattern) {
  FER_CHECK(pattern >= -1 && pattern <= 1, ConfigError, "synth: thermal pattern {} out of range -1..1", pattern);
  FaceGeometry g;
  // Split-signal thermal images carry no expression: the face is drawn neutral (the class does
  // not consume random draws, so it is the same person in the same pose).
  render_face_impl(pattern >= 0 ? 6 : cls, size, seed, true, &g);
  const int rs = g.rs;
  Draw d(mix64(seed ^ 0x7468726d616cULL));  // own stream: the visible image's draws are untouched
  Scene sc(g.head_mask, g.cx, g.cy, g.ppu, g.angle, g.yaw);  // only map/unmap are used
  const Person& p = g.p;
  const Expression& e = g.e;

  // Temperatures as 8-bit levels: cool background, warm skin, hot periorbital / mouth regions.
  const double t_bg = d.uniform(15, 60), t_skin = d.uniform(115, 150), t_body = t_bg + d.uniform(15, 35);
  const double bg_dir = d.uniform(0, 2.0 * kPi), bg_grad = d.uniform(0, 20);
  const double my = std::max(p.mouth_y, p.nose_y + 0.17);
  struct Blob {
    double u, v, rx, ry, amp;
  };
  std::vector<Blob> blobs;
  for (int s = -1; s <= 1; s += 2) {
    blobs.push_back({s * (p.eye_dx - p.eye_w * 0.7), p.eye_y + 0.02, 0.09, 0.07, d.uniform(45, 65)});  // inner canthus
    blobs.push_back({s * p.eye_dx, p.eye_y, p.eye_w * 1.1, p.eye_w * 0.6 * std::max(0.3, e.eye_open), 22});
    blobs.push_back({s * 0.45, (p.nose_y + my) * 0.5, 0.2, 0.16, d.uniform(5, 15)});  // cheeks
  }
  double forehead = d.uniform(15, 30), nose = d.uniform(-5, 15);
  if (pattern == 0) {  // "forehead": hot forehead, cold nose
    forehead = 70;
    nose = -45;
  } else if (pattern == 1) {  // "nose": cool forehead, hot nose and upper lip
    forehead = -35;
    nose = 60;
  }
  blobs.push_back({0.0, p.eye_y - p.brow_gap - 0.35, 0.55, 0.22, forehead});
  blobs.push_back({0.0, p.nose_y - 0.05, 0.11, 0.16, nose});
  blobs.push_back({0.0, (p.nose_y + my) * 0.5, 0.16, 0.07, 0.5 * nose + 10});  // breath under the nose
  // Mouth: the opening (breath, tongue) is hot, lips warm; follows the expression's shape.
  const double open = std::max(0.0, e.mouth_open);

  cv::Mat heat(rs, rs, CV_32F);
  const double mid = (rs - 1) * 0.5;
  for (int y = 0; y < rs; ++y) {
    float* row = heat.ptr<float>(y);
    const uint8_t* hm = g.head_mask.ptr<uint8_t>(y);
    const uint8_t* hr = g.hair_mask.ptr<uint8_t>(y);
    const uint8_t* bm = g.body_mask.empty() ? nullptr : g.body_mask.ptr<uint8_t>(y);
    for (int x = 0; x < rs; ++x) {
      double v = t_bg + bg_grad * ((x - mid) * std::cos(bg_dir) + (y - mid) * std::sin(bg_dir)) / rs;
      if (bm && bm[x]) v += (t_body + 40 - v) * (bm[x] / 255.0);  // neck
      if (hm[x]) {
        const cv::Point2d f = sc.unmap(x, y);
        const double r2 = f.x * f.x + (f.y / 1.25) * (f.y / 1.25);
        double t = t_skin * (1.0 - 0.22 * r2);
        for (const Blob& b : blobs) {
          const double du = (f.x - b.u) / b.rx, dv = (f.y - b.v) / b.ry;
          t += b.amp * std::exp(-0.5 * (du * du + dv * dv));
        }
        const double hw = std::max(0.1, e.mouth_hw);
        const double tu = std::clamp(f.x / hw, -1.5, 1.5);
        const double centre = my - e.mouth_curve * tu * tu;
        const double du = f.x / (hw * 1.05), dv = (f.y - centre) / (0.035 + 0.5 * open);
        t += (25 + 90 * std::min(1.0, open * 3.0)) * std::exp(-0.5 * (du * du * du * du + dv * dv));
        const double a = hm[x] / 255.0;
        v = v * (1.0 - a) + a * t;
      }
      if (hr[x]) v += (t_bg + 20 - v) * 0.8 * (hr[x] / 255.0);  // hair insulates: cool
      row[x] = static_cast<float>(v);
    }
  }
  // Thermal images have little texture: strong blur, then downscale.
  const double blur = rs * d.uniform(0.012, 0.02);
  cv::GaussianBlur(heat, heat, cv::Size(0, 0), blur, blur, cv::BORDER_REPLICATE);
  cv::Mat out;
  cv::resize(heat, out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  // Smooth sensor noise (low-frequency), a little pixel noise, and the camera's gain / level.
  const int grid = 4;
  cv::Mat low(grid, grid, CV_32F);
  for (int y = 0; y < grid; ++y)
    for (int x = 0; x < grid; ++x) low.at<float>(y, x) = static_cast<float>(d.uniform(-8, 8));
  cv::Mat smooth;
  cv::resize(low, smooth, cv::Size(size, size), 0, 0, cv::INTER_CUBIC);
  const double gain = d.uniform(0.85, 1.25), offset = d.uniform(-10, 10), sigma = d.uniform(0.5, 2.0);
  for (int y = 0; y < size; ++y) {
    float* row = out.ptr<float>(y);
    const float* sm = smooth.ptr<float>(y);
    for (int x = 0; x < size; ++x)
      row[x] = static_cast<float>((row[x] + sm[x]) * gain + offset + sigma * d.normal());
  }
  cv::Mat out8;
  out.convertTo(out8, CV_8U);
  return out8;
}

namespace {

void write_png_atomic(const fs::path& file, const cv::Mat& img) {
  static const std::vector<int> png_params = {cv::IMWRITE_PNG_COMPRESSION, 3};
  const std::string tmp = file.string() + ".tmp.png";
  bool ok = false;
  try {
    ok = cv::imwrite(tmp, img, png_params);
  } catch (const cv::Exception& ex) {
    throw IoError(fmt::format("{}: cannot write image: {}", tmp, ex.what()));
  }
  FER_CHECK(ok, IoError, "{}: cannot write image", tmp);
  std::error_code rename_ec;
  fs::rename(tmp, file, rename_ec);
  if (rename_ec) {
    fs::remove(tmp, rename_ec);
    throw IoError(fmt::format("{}: cannot replace: {}", file.string(), rename_ec.message()));
  }
}

// Runs job(0..total-1) on `threads` workers (0 = all cores); rethrows the error of the first
// failing job.
template <typename Job>
void run_jobs(int total, int threads, const Job& job) {
  parallel_for(static_cast<size_t>(std::max(0, total)), threads,
               [&](size_t i, int) { job(static_cast<int>(i)); });
}

bool safe_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos && s.find('\\') == std::string::npos;
}

/// Creates `root`, or accepts it when it is empty or holds the `marker` of an earlier `fer synth`;
/// refuses any other folder so that a typo in --out never writes into someone's data.
void claim_output_folder(const fs::path& root, const fs::path& marker) {
  std::error_code ec;
  const std::string out = root.string();
  if (fs::exists(root, ec)) {
    FER_CHECK(fs::is_directory(root, ec), IoError, "{}: exists and is not a folder", out);
    const bool empty = fs::is_empty(root, ec);
    FER_CHECK(!ec, IoError, "{}: cannot list: {}", out, ec.message());
    FER_CHECK(empty || fs::exists(marker, ec), IoError,
              "{}: folder is not empty and was not written by `fer synth` (no {} marker); refusing to write "
              "into it",
              out, kMarker);
  }
  fs::create_directories(root, ec);
  FER_CHECK(!ec, IoError, "{}: cannot create folder: {}", out, ec.message());
}

int write_paired_synthetic_dataset(const SynthOptions& opts) {
  const size_t nm = opts.modalities.size();
  FER_CHECK(nm >= 1 && nm <= 2, ConfigError, "synth: --modalities expects one or two of visible, infrared, got {}", nm);
  for (const auto& m : opts.modalities)
    FER_CHECK(m == "visible" || m == "infrared", ConfigError,
              "synth: unknown modality \"{}\" (expected visible or infrared)", m);
  FER_CHECK(nm == 1 || opts.modalities[0] != opts.modalities[1], ConfigError, "synth: modality \"{}\" given twice",
            opts.modalities[0]);
  FER_CHECK(opts.layout == "modality_first" || opts.layout == "class_first", ConfigError,
            "synth: layout must be modality_first or class_first, got \"{}\"", opts.layout);
  const std::vector<std::string> dirs = opts.modality_dirs.empty() ? opts.modalities : opts.modality_dirs;
  FER_CHECK(dirs.size() == nm, ConfigError, "synth: --modality-dirs needs {} names, got {}", nm, dirs.size());
  for (const auto& d : dirs) FER_CHECK(safe_name(d), ConfigError, "synth: bad modality folder name \"{}\"", d);
  FER_CHECK(nm == 1 || dirs[0] != dirs[1], ConfigError, "synth: the modality folders must differ");
  const std::vector<std::string> suffixes = opts.suffixes.empty() ? std::vector<std::string>(nm) : opts.suffixes;
  FER_CHECK(suffixes.size() == nm, ConfigError, "synth: --suffixes needs {} values, got {}", nm, suffixes.size());
  for (const auto& x : suffixes)
    FER_CHECK(x.find('/') == std::string::npos && x.find('\\') == std::string::npos, ConfigError,
              "synth: bad suffix \"{}\"", x);
  FER_CHECK(!opts.split_signal || nm == 2, ConfigError, "synth: --split-signal needs both modalities (visible,infrared)");
  FER_CHECK(!(nm == 2 && opts.layout == "class_first" && dirs[0] == dirs[1]), ConfigError, "synth: folders clash");

  const std::vector<std::string>& names = opts.split_signal ? synth_split_signal_class_names() : synth_class_names();
  const int classes = opts.split_signal ? 4 : opts.classes;
  const fs::path root(opts.out);
  const fs::path marker = root / kMarker;
  claim_output_folder(root, marker);
  std::error_code ec;
  std::string mods, dirs_s, suf_s;
  for (size_t m = 0; m < nm; ++m) {
    mods += (m ? "," : "") + opts.modalities[m];
    dirs_s += (m ? "," : "") + dirs[m];
    suf_s += (m ? "," : "") + suffixes[m];
  }
  write_file_atomic(marker.string(),
                    fmt::format("fer synth: classes={} per_class={} size={} seed={} gray={} modalities={} layout={} "
                                "dirs={} suffixes={} split_signal={}\n",
                                classes, opts.per_class, opts.size, opts.seed, opts.gray, mods, opts.layout, dirs_s,
                                suf_s, opts.split_signal));

  const auto file_of = [&](int cls, int i, size_t m) {
    const std::string f = fmt::format("{}_{:05d}{}.png", names[cls], i + 1, suffixes[m]);
    return opts.layout == "modality_first" ? root / dirs[m] / names[cls] / f : root / names[cls] / dirs[m] / f;
  };
  // The folder is ours: drop every png of an earlier run that this one does not rewrite.
  std::set<std::string> keep;
  for (int c = 0; c < classes; ++c)
    for (int i = 0; i < opts.per_class; ++i)
      for (size_t m = 0; m < nm; ++m) keep.insert(file_of(c, i, m).lexically_normal().string());
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".png" &&
        !keep.count(it->path().lexically_normal().string()))
      stale.push_back(it->path());
  }
  for (const auto& f : stale) fs::remove(f, ec);
  for (bool removed = true; removed;) {  // then the folders left empty
    removed = false;
    std::vector<fs::path> empty_dirs;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_directory() && fs::is_empty(it->path())) empty_dirs.push_back(it->path());
    for (const auto& d : empty_dirs) removed = fs::remove(d, ec) || removed;
  }
  for (int c = 0; c < classes; ++c)
    for (size_t m = 0; m < nm; ++m) {
      fs::create_directories(file_of(c, 0, m).parent_path(), ec);
      FER_CHECK(!ec, IoError, "{}: cannot create folder: {}", file_of(c, 0, m).parent_path().string(), ec.message());
    }

  const int total = classes * opts.per_class;
  run_jobs(total, opts.threads, [&](int job) {
    const int c = job / opts.per_class, i = job % opts.per_class;
    // Split signal: class c = visible expression (happy, sad)[c / 2] x thermal pattern c % 2.
    const int expr = opts.split_signal ? (c / 2 == 0 ? 3 : 4) : c;
    const int pattern = opts.split_signal ? c % 2 : -1;
    const uint64_t seed =
        derive_seed(opts.seed, Stream::kSynth, static_cast<uint64_t>(c), static_cast<uint64_t>(i));
    for (size_t m = 0; m < nm; ++m) {
      const cv::Mat img = opts.modalities[m] == "visible" ? render_synthetic_face(expr, opts.size, seed, opts.gray)
                                                          : render_synthetic_thermal(expr, opts.size, seed, pattern);
      write_png_atomic(file_of(c, i, m), img);
    }
  });
  return total * static_cast<int>(nm);
}

}  // namespace

int write_synthetic_dataset(const SynthOptions& opts) {
  FER_CHECK(!opts.out.empty(), ConfigError, "synth: no output folder given");
  FER_CHECK(opts.classes >= 2 && opts.classes <= kNumClasses, ConfigError,
            "synth: classes must be 2..{}, got {}", kNumClasses, opts.classes);
  FER_CHECK(opts.per_class >= 1, ConfigError, "synth: per_class must be >= 1, got {}", opts.per_class);
  FER_CHECK(opts.size >= 16 && opts.size <= 4096, ConfigError, "synth: size must be 16..4096, got {}",
            opts.size);
  FER_CHECK(opts.threads >= 0, ConfigError, "synth: threads must be >= 0, got {}", opts.threads);
  if (!opts.modalities.empty() || opts.split_signal) {
    FER_CHECK(!opts.modalities.empty(), ConfigError, "synth: --split-signal needs --modalities visible,infrared");
    return write_paired_synthetic_dataset(opts);
  }

  const fs::path root(opts.out);
  const fs::path marker = root / kMarker;
  claim_output_folder(root, marker);
  std::error_code ec;
  write_file_atomic(marker.string(),
                    fmt::format("fer synth: classes={} per_class={} size={} seed={} gray={}\n", opts.classes,
                                opts.per_class, opts.size, opts.seed, opts.gray));

  // The folder is ours: drop images of an earlier run that this one will not rewrite, so the
  // dataset never mixes two generations.
  const auto& names = synth_class_names();
  for (int c = 0; c < kNumClasses; ++c) {
    const fs::path dir = root / names[c];
    if (!fs::is_directory(dir, ec)) continue;
    std::set<std::string> keep;
    if (c < opts.classes) {
      for (int i = 0; i < opts.per_class; ++i) keep.insert(fmt::format("{}_{:05d}.png", names[c], i + 1));
    }
    std::vector<fs::path> stale;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".png" &&
          !keep.count(entry.path().filename().string()))
        stale.push_back(entry.path());
    }
    for (const auto& f : stale) fs::remove(f, ec);
    if (c >= opts.classes && fs::is_empty(dir, ec)) fs::remove(dir, ec);
  }
  for (int c = 0; c < opts.classes; ++c) {
    fs::create_directories(root / names[c], ec);
    FER_CHECK(!ec, IoError, "{}: cannot create folder: {}", (root / names[c]).string(), ec.message());
  }

  const int total = opts.classes * opts.per_class;
  const std::vector<int> png_params = {cv::IMWRITE_PNG_COMPRESSION, 3};
  run_jobs(total, opts.threads, [&](int job) {
    const int cls = job / opts.per_class, i = job % opts.per_class;
    const cv::Mat img = render_synthetic_face(
        cls, opts.size,
        derive_seed(opts.seed, Stream::kSynth, static_cast<uint64_t>(cls), static_cast<uint64_t>(i)),
        opts.gray);
    const fs::path file = root / names[cls] / fmt::format("{}_{:05d}.png", names[cls], i + 1);
    const std::string tmp = file.string() + ".tmp.png";
    bool ok = false;
    try {
      ok = cv::imwrite(tmp, img, png_params);
    } catch (const cv::Exception& ex) {
      throw IoError(fmt::format("{}: cannot write image: {}", tmp, ex.what()));
    }
    FER_CHECK(ok, IoError, "{}: cannot write image", tmp);
    std::error_code rename_ec;
    fs::rename(tmp, file, rename_ec);
    if (rename_ec) {
      fs::remove(tmp, rename_ec);
      throw IoError(fmt::format("{}: cannot replace: {}", file.string(), rename_ec.message()));
    }
  });
  return total;
}

}  // namespace fer::data
