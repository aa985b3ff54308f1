#!/usr/bin/env bash
# The demo: installs what is needed, builds, generates the built-in synthetic dataset, trains
# the demo model, evaluates it once on its test split and classifies a few images.
# A few minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh -DFER_BUILD_TESTS=OFF
FER=$(scripts/build.sh --print-dir)/fer
RUN=runs/demo

$FER synth --out data/demo --classes 7 --per-class 150 --size 64 --seed 42
rm -rf "$RUN"
$FER train --config configs/demo.json --out "$RUN"
$FER eval --run "$RUN" --split test
$FER infer --run "$RUN" --detector none data/demo/happy/happy_00001.png data/demo/surprise/surprise_00001.png data/demo/sad/sad_00001.png

echo
echo "demo done. Report in $RUN/:"
echo "  eval_test.json  confusion_test.png  per_class_test.png  curves.png  history.csv  train.log"
