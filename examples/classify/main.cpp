// Classifies the faces in one photo with a trained fer run, through the installed library.
// Usage: classify RUN_DIR PHOTO   (RUN_DIR: a `fer train` output folder, or a checkpoint file)
#include <fer/infer/analyzer.hpp>
#include <iostream>
#include <opencv2/imgcodecs.hpp>

int main(int argc, char** argv) try {
  if (argc != 3) return std::cerr << "usage: classify RUN_DIR PHOTO\n", 2;
  fer::infer::Predictor model(fer::infer::resolve_checkpoint(argv[1]), "auto");
  fer::infer::FaceAnalyzer faces(model, model.config().face, {});
  cv::Mat photo = cv::imread(argv[2]);
  if (photo.empty()) return std::cerr << argv[2] << ": not an image\n", 1;
  for (const auto& f : faces.analyze(photo))
    std::cout << "face " << f.index << " at " << f.detection.box << ": "
              << model.class_names()[f.top()] << " " << f.probs[f.top()] << "\n";
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
