// Test helper: writes a short MJPG AVI from a photo with OpenCV's VideoWriter, panning the photo
// a few pixels per frame, so video inference and face tracking can be tested end to end.
// Usage: make_test_video IN_IMAGE OUT.avi FRAMES [STEP_PX] [FPS]
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s IN_IMAGE OUT.avi FRAMES [STEP_PX] [FPS]\n", argv[0]);
    return 2;
  }
  const cv::Mat img = cv::imread(argv[1], cv::IMREAD_COLOR);
  if (img.empty()) {
    std::fprintf(stderr, "%s: cannot decode image\n", argv[1]);
    return 1;
  }
  const int frames = std::stoi(argv[3]);
  const double step = argc > 4 ? std::stod(argv[4]) : 2.0;
  const double fps = argc > 5 ? std::stod(argv[5]) : 10.0;
  cv::VideoWriter writer(argv[2], cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, img.size());
  if (!writer.isOpened()) {
    std::fprintf(stderr, "%s: cannot open for writing\n", argv[2]);
    return 1;
  }
  for (int i = 0; i < frames; ++i) {
    const cv::Matx23d shift(1, 0, step * i, 0, 1, 0.5 * step * i);
    cv::Mat frame;
    cv::warpAffine(img, frame, cv::Mat(shift), img.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    writer.write(frame);
  }
  return 0;
}
