// dlib's CNN (max-margin object detection) face detector, for users who supply
// mmod_human_face_detector.dat. The network definition is dlib's published one.
#include <dlib/dnn.h>
#include <dlib/image_transforms.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/imgproc.hpp>

#include "face_internal.hpp"
#include "fer/core/error.hpp"

namespace fer::face {
namespace {

template <long num_filters, typename SUBNET>
using con5d = dlib::con<num_filters, 5, 5, 2, 2, SUBNET>;
template <long num_filters, typename SUBNET>
using con5 = dlib::con<num_filters, 5, 5, 1, 1, SUBNET>;
template <typename SUBNET>
using downsampler =
    dlib::relu<dlib::affine<con5d<32, dlib::relu<dlib::affine<con5d<32, dlib::relu<dlib::affine<con5d<16, SUBNET>>>>>>>>>;
template <typename SUBNET>
using rcon5 = dlib::relu<dlib::affine<con5<45, SUBNET>>>;
using MmodNet = dlib::loss_mmod<
    dlib::con<1, 9, 9, 1, 1, rcon5<rcon5<rcon5<downsampler<dlib::input_rgb_image_pyramid<dlib::pyramid_down<6>>>>>>>>;

class MmodDetector : public ScaledDetector {
 public:
  explicit MmodDetector(const config::FaceConfig& cfg) : ScaledDetector(cfg) {
    require_model_file(cfg.mmod_model, "dlib CNN face detector (mmod_human_face_detector.dat)",
                       "from dlib's model files; set face.mmod_model");
    try {
      dlib::deserialize(cfg.mmod_model) >> net_;
    } catch (const std::exception& e) {
      throw IoError(fmt::format("{}: not dlib's mmod face detector ({})", cfg.mmod_model, e.what()));
    }
  }

  std::string name() const override { return "mmod"; }

 protected:
  bool reads_gray() const override { return false; }
  std::vector<Detection> detect_at(const cv::Mat& image, int /*min_side*/) override {
    cv::Mat rgb;
    if (image.channels() == 1) {
      cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
    } else if (image.channels() == 4) {
      cv::cvtColor(image, rgb, cv::COLOR_BGRA2RGB);
    } else {
      cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
    }
    dlib::matrix<dlib::rgb_pixel> img;
    dlib::assign_image(img, dlib::cv_image<dlib::rgb_pixel>(rgb));
    double scale = 1.0;
    for (int i = 0; i < cfg_.upsample; ++i) {
      dlib::pyramid_up(img);
      scale *= 2.0;
    }
    std::vector<Detection> out;
    for (const auto& d : net_(img)) {
      out.push_back({cv::Rect2f(static_cast<float>(d.rect.left() / scale), static_cast<float>(d.rect.top() / scale),
                                static_cast<float>(d.rect.width() / scale), static_cast<float>(d.rect.height() / scale)),
                     static_cast<float>(d.detection_confidence)});
    }
    return out;
  }

 private:
  MmodNet net_;
};

}  // namespace

std::unique_ptr<Detector> make_mmod_detector(const config::FaceConfig& cfg) {
  return std::make_unique<MmodDetector>(cfg);
}

}  // namespace fer::face
