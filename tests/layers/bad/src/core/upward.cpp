// A fixture for the layer check's own test (tests/CMakeLists.txt, layers.check_catches): the core
// layer including training code and LibTorch must be reported. Never compiled.
#include <torch/torch.h>

#include "fer/train/trainer.hpp"
