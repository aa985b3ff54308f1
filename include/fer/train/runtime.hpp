#pragma once
// Process-wide runtime settings: thread count and device (no torch in this header).
#include <string>

namespace fer::train {

/// Sets LibTorch's intra-op threads (0 = all cores; LibTorch would otherwise use one here)
/// and returns the count in effect.
int configure_threads(int threads);

/// Resolves "auto" | "cpu" | "cuda" | "cuda:N" to a concrete device string ("cpu", "cuda:0").
/// Asking for CUDA when LibTorch has none is a ConfigError.
std::string resolve_device(const std::string& requested);

/// "1.13.1": the LibTorch this library was built with (runtime.cpp: LibTorch alone, so the
/// standalone CUDA checks of tests/cuda build without OpenCV and dlib).
std::string torch_version();

/// "LibTorch 1.13.1, OpenCV 4.6.0, dlib 19.24.0" and the like, for run records and --version
/// (versions.cpp).
std::string library_versions();

/// The CPU the process runs on and the kernels LibTorch uses on it, for run records:
/// "AMD EPYC (family 25 model 1), 2 cores, AVX2 kernels". The same seed gives the same numbers
/// on the same kind of host; another instruction set can change the last bits, and the speed.
std::string host_description();

}  // namespace fer::train
