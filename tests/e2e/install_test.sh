#!/usr/bin/env bash
# The installed library: `cmake --install` into a temporary prefix, examples/classify configured
# with find_package(fer) against that prefix alone and built, then run on a real photo with a
# tiny trained model; its answer must be fer infer's (same faces, same classes, same probabilities).
# Usage: install_test.sh BUILD_DIR SOURCE_DIR SHARED_DATA_DIR
set -uo pipefail
BUILD=$1
SRC=$2
SHARED=${3:-}
FER="$BUILD/fer"
. "$(dirname "$0")/lib.sh"

expect_exit 0 "cmake --install into a temporary prefix" -- cmake --install "$BUILD" --prefix "$T/prefix"
for f in include/fer/infer/analyzer.hpp include/fer/core/error.hpp lib/libfer_core.a lib/libfer_torch.a \
         lib/cmake/fer/ferConfig.cmake lib/cmake/fer/ferConfigVersion.cmake bin/fer; do
  check "installed $f" test -s "$T/prefix/$f"
done
# (ferConfig.cmake itself records the Torch_DIR of the build, which may be a wheel in the source tree.)
check "no source-tree or build-tree path in the exported targets" \
  bash -c "! grep -l -e '$SRC/' -e '$BUILD/' '$T'/prefix/lib/cmake/fer/fer*Targets*.cmake"

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
expect_exit 0 "examples/classify configures with find_package(fer)" -- cmake -S "$SRC/examples/classify" -B "$T/classify" \
  "${gen[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$T/prefix"
expect_exit 0 "examples/classify builds against the installed package" -- cmake --build "$T/classify"
CLASSIFY="$T/classify/classify"
libtorch() { ldd "$1" 2>/dev/null | grep -o '/[^ ]*/libtorch_cpu\.so[^ ]*' | head -1; }
check "examples/classify links the LibTorch fer was built with ($(libtorch "$FER"))" \
  test -n "$(libtorch "$FER")" -a "$(libtorch "$CLASSIFY")" = "$(libtorch "$FER")"
check "examples/classify is about 20 lines" test "$(wc -l <"$SRC/examples/classify/main.cpp")" -le 25
# A torch-free program finds fer::core alone.
mkdir -p "$T/coreonly"
cat >"$T/coreonly/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(coreonly LANGUAGES CXX)
find_package(fer REQUIRED COMPONENTS core)
if(TARGET fer::fer OR NOT TARGET fer::core)
  message(FATAL_ERROR "COMPONENTS core: expected fer::core and no fer::fer")
endif()
CMAKE
expect_exit 0 "find_package(fer COMPONENTS core) gives fer::core without LibTorch" -- \
  cmake -S "$T/coreonly" -B "$T/coreonly/b" -DCMAKE_PREFIX_PATH="$T/prefix"
mkdir -p "$T/badcomp"
printf 'cmake_minimum_required(VERSION 3.18)\nproject(badcomp LANGUAGES CXX)\nfind_package(fer REQUIRED COMPONENTS cor)\n' \
  >"$T/badcomp/CMakeLists.txt"
expect_exit 1 "an unknown component is an error" -- cmake -S "$T/badcomp" -B "$T/badcomp/b" -DCMAKE_PREFIX_PATH="$T/prefix"
grep -q 'unknown component "cor"' "$T/out" "$T/err" && ok "the error names the component" || bad "the error names the component"
expect_exit 2 "classify without arguments" -- "$CLASSIFY"

# A tiny model (grayscale crops of generated faces) for the comparison.
expect_exit 0 "synth" -- "$FER" synth --out "$T/data" --classes 3 --per-class 40 --size 48 --seed 5
cat >"$T/tiny.json" <<JSON
{"name": "tiny", "seed": 1,
 "data": {"format": "image_folder", "path": "$T/data", "split": {"scheme": "ratio", "ratios": [0.6, 0.2, 0.2]}},
 "preprocess": {"size": 40, "channels": 1},
 "model": {"name": "resnet18", "width": 8},
 "train": {"epochs": 2, "batch_size": 16, "optimizer": "adam", "lr": 0.002}}
JSON
expect_exit 0 "train a tiny run" -- "$FER" train --config "$T/tiny.json" --out "$T/run" --no-progress
expect_exit 1 "classify on a file that is not an image" -- "$CLASSIFY" "$T/run" "$T/tiny.json"
err_has "not an image" && ok "the error names the file" || bad "the error names the file"

PHOTO="$SHARED/faces/2008_002470.jpg"
if [ -f "$PHOTO" ]; then
  expect_exit 0 "classify a real photo" -- "$CLASSIFY" "$T/run" "$PHOTO"
  cp "$T/out" "$T/classify.txt"
  expect_exit 0 "fer infer on the same photo" -- "$FER" infer --run "$T/run" "$PHOTO" --json
  py_check "classify finds fer infer's faces, classes and probabilities" "$T/classify.txt" "$T/out" <<'PYEOF'
import json, re, sys
mine = [re.match(r"face (\d+) at .*: (\S+) ([0-9.e-]+)$", l) for l in open(sys.argv[1]) if l.strip()]
theirs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
print(len(mine), "faces;", [m.group(2) for m in mine if m], [r["class"] for r in theirs])
ok = len(mine) == len(theirs) >= 1 and all(mine)
ok = ok and all(int(m.group(1)) == r["face"] and m.group(2) == r["class"]
                and abs(float(m.group(3)) - r["probs"][r["class"]]) < 1e-4 for m, r in zip(mine, theirs))
sys.exit(0 if ok else 1)
PYEOF
else
  echo "SKIP: no $PHOTO (the comparison with fer infer needs ../shared/data/faces)"
fi

echo "install_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
