#!/usr/bin/env bash
# fer against PyTorch from Python, back to back on this machine, in one go: training and
# evaluation throughput (fer bench vs bench_pytorch.py) and face inference on photos and on a
# video (fer infer vs infer_pytorch.py: OpenCV Haar + ResNet-18). Prints the figures, the
# ratios and the host, and writes them to OUT/compare.md (the README's speed table comes from
# it) and OUT/*.json. Nothing else should run meanwhile: the figures are wall-clock speeds.
#
#   scripts/bench/compare.sh [OUT]          (default OUT: runs/bench_compare)
#   THREADS=2 ITERS=20 FER=build/fer PHOTO=../shared/data/faces/bald_guys.jpg COPIES=10
#   VIDEO_FACE=../shared/data/faces/Tom_Cruise_avp_2014_4.jpg FRAMES=100
# Needs /usr/bin/python3 with python3-torch, python3-torchvision, python3-h5py, python3-opencv
# (scripts/install_deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/bench_compare}
FER=${FER:-build/fer}
PY=/usr/bin/python3
THREADS=${THREADS:-$(nproc)}
ITERS=${ITERS:-20}
PHOTO=${PHOTO:-../shared/data/faces/bald_guys.jpg}
COPIES=${COPIES:-10}
VIDEO_FACE=${VIDEO_FACE:-../shared/data/faces/Tom_Cruise_avp_2014_4.jpg}
FRAMES=${FRAMES:-100}
[ -x "$FER" ] || { echo "compare.sh: no fer binary at $FER (build first, or set FER=path)" >&2; exit 2; }
for f in "$PHOTO" "$VIDEO_FACE"; do [ -f "$f" ] || { echo "compare.sh: $f not found" >&2; exit 2; }; done
$PY -c "import torch, torchvision, cv2" 2>/dev/null ||
  { echo "compare.sh: $PY lacks torch, torchvision or cv2 (scripts/install_deps.sh)" >&2; exit 2; }
mkdir -p "$OUT"

echo "== training and evaluation: fer bench vs bench_pytorch.py ($THREADS threads, $ITERS batches)"
for p in fp32 bf16; do
  "$FER" bench --threads "$THREADS" --iters "$ITERS" --precision "$p" --json "$OUT/fer_bench_$p.json"
  $PY scripts/bench/bench_pytorch.py --threads "$THREADS" --iters "$ITERS" --precision "$p" \
    --json "$OUT/py_bench_$p.json"
done

echo "== face inference: fer infer vs infer_pytorch.py"
work="$OUT/work"
rm -rf "$work"
mkdir -p "$work/photos"
for i in $(seq 1 "$COPIES"); do cp "$PHOTO" "$work/photos/photo_$i.jpg"; done
# A 640x480 video with one face, made from a photo (the face centred, the frame padded).
$PY - "$VIDEO_FACE" "$work/video.avi" "$FRAMES" <<'PYEOF'
import sys, cv2, numpy as np
img = cv2.imread(sys.argv[1])
scale = min(640 / img.shape[1], 480 / img.shape[0])
img = cv2.resize(img, (int(img.shape[1] * scale), int(img.shape[0] * scale)), interpolation=cv2.INTER_AREA)
frame = np.zeros((480, 640, 3), np.uint8)
y, x = (480 - img.shape[0]) // 2, (640 - img.shape[1]) // 2
frame[y:y + img.shape[0], x:x + img.shape[1]] = img
w = cv2.VideoWriter(sys.argv[2], cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
for i in range(int(sys.argv[3])):
    w.write(np.roll(frame, i % 8, axis=1))  # a little motion
w.release()
PYEOF
# The model both sides run: fer's ResNet-18 (width 64, 3x3 stem, 48 px faces cut to 44), trained
# for one short epoch on generated faces (speed does not depend on the weights).
"$FER" synth --out "$work/faces" --classes 7 --per-class 10 --size 48 --seed 1 >/dev/null
cat >"$work/model.json" <<JSON
{"name": "bench_model", "seed": 1, "threads": $THREADS,
 "data": {"format": "image_folder", "path": "$work/faces", "split": {"ratios": [0.8, 0.1, 0.1]}},
 "preprocess": {"size": 48, "channels": 3, "normalize": "none"}, "augment": {"crop": 44},
 "face": {"detector": "haar"},
 "model": {"name": "resnet18", "width": 64, "stem": "3x3"},
 "train": {"epochs": 1, "batch_size": 32}}
JSON
"$FER" train --config "$work/model.json" --out "$work/model" --no-progress 2>"$work/model.log" >/dev/null
infer_fer() {  # NAME PRECISION INPUT...
  local name=$1 precision=$2
  shift 2
  "$FER" infer --run "$work/model" --detector haar --threads "$THREADS" --precision "$precision" "$@" \
    --json "$work/$name.jsonl" 2>"$work/$name.log" >/dev/null || { cat "$work/$name.log" >&2; return 1; }
  grep "face(s) classified" "$work/$name.log" | tail -1 | sed 's/^.*info //'
}
# fer with its defaults (photos detected on a copy of at most 1024 px, face.detect_max_side;
# videos searched whole every 5th frame and near the last faces in between, --redetect), and
# with the Python peer's detection work (the full frame, every frame).
for p in fp32 bf16; do
  echo "fer infer, photos, $p: $(infer_fer "fer_photos_$p" "$p" "$work/photos")"
  echo "fer infer, video, $p: $(infer_fer "fer_video_$p" "$p" "$work/video.avi")"
done
echo "fer infer, photos, bf16, full frame: $(infer_fer fer_photos_bf16_full bf16 "$work/photos" --detect-max-side 0)"
echo "fer infer, video, bf16, every frame: $(infer_fer fer_video_bf16_full bf16 "$work/video.avi" --redetect 1)"
for p in fp32 bf16; do
  $PY scripts/bench/infer_pytorch.py "$work"/photos/*.jpg --threads "$THREADS" --precision "$p" \
    --json "$OUT/py_photos_$p.json"
  $PY scripts/bench/infer_pytorch.py --video "$work/video.avi" --threads "$THREADS" --precision "$p" \
    --json "$OUT/py_video_$p.json"
done
$PY scripts/bench/infer_pytorch.py "$work"/photos/*.jpg --threads "$THREADS" --precision fp32 \
  --detect-max-side 1024 --json "$OUT/py_photos_fp32_1024.json"

$PY - "$OUT" "$work" "$PHOTO" "$COPIES" "$FRAMES" <<'PYEOF'
import json, re, sys
out, work, photo, copies, frames = sys.argv[1:]
load = lambda name: json.load(open(f"{out}/{name}.json"))
fb = {p: load(f"fer_bench_{p}") for p in ("fp32", "bf16")}
pb = {p: load(f"py_bench_{p}") for p in ("fp32", "bf16")}
def fer_infer(name):
    line = [l for l in open(f"{work}/{name}.log") if "face(s) classified" in l][-1]
    m = re.search(r"(\d+) face\(s\) classified.*; ([\d.]+) s, ([\d.]+) images\+frames/s", line)
    return int(m.group(1)), float(m.group(3))
host = fb["fp32"]["host"]
rows = []
def row(measure, fer, py, unit):
    rows.append(f"| {measure} | {fer:.1f} | {py:.1f} | {fer / py:.2f} | {unit} |")
for stage, label in (("model", "ResNet-18 training step, model alone"), ("train_loop", "training loop (loader + model)"),
                     ("inference", "inference, forward alone"), ("eval_ten_crop", "ten-crop evaluation")):
    row(f"{label}: fer fp32 / PyTorch fp32", fb["fp32"][stage], pb["fp32"][stage], "img/s")
    row(f"{label}: fer bf16 / PyTorch fp32", fb["bf16"][stage], pb["fp32"][stage], "img/s")
    row(f"{label}: fer bf16 / PyTorch bf16", fb["bf16"][stage], pb["bf16"][stage], "img/s")
ratio = {}
for kind, src in (("photos", f"{copies} copies of {photo.split('/')[-1]}"), ("video", f"640x480 video, one face, {frames} frames")):
    py = load(f"py_{kind}_fp32")
    how = {"photos": "detection on a copy of at most 1024 px", "video": "whole-frame detection every 5th frame"}[kind]
    full = {"photos": "detection on the full photo, as Python", "video": "whole-frame detection every frame, as Python"}[kind]
    for name, p, what in ((f"fer_{kind}_fp32", "fp32", how), (f"fer_{kind}_bf16", "bf16", how),
                          (f"fer_{kind}_bf16_full", "bf16", full)):
        faces, fps = fer_infer(name)
        row(f"face inference, {src}: fer {p} ({what}; {faces} faces with landmarks + alignment) / Python fp32 "
            f"(full frame; {py['faces']} faces)", fps, py["frames_per_s"], "frames/s")
        ratio[name] = (fps, fps / py["frames_per_s"])
py = load("py_photos_fp32_1024")
faces, fps = fer_infer("fer_photos_bf16")
row(f"face inference, {copies} copies of {photo.split('/')[-1]}: fer bf16 / Python fp32, both detecting on a copy of "
    f"at most 1024 px (fer {faces} faces, Python {py['faces']})", fps, py["frames_per_s"], "frames/s")
ten_crop = fb["bf16"]["eval_ten_crop"] / pb["fp32"]["eval_ten_crop"]
train = fb["bf16"]["model"] / pb["fp32"]["model"]
met = lambda ok: "met" if ok else "NOT met"
goals = (f"Goals of issue 21 in this run: training step in bf16 against PyTorch fp32 {train:.2f} (goal >= 1.6, aim 1.8): "
         f"{met(train >= 1.6)}. Ten-crop evaluation, fer bf16 against PyTorch fp32 {ten_crop:.2f} (goal >= 3): "
         f"{met(ten_crop >= 3)}. fer infer on the photos against the Python pipeline {ratio['fer_photos_bf16'][1]:.2f} "
         f"(goal >= 2): {met(ratio['fer_photos_bf16'][1] >= 2)}. The video at {ratio['fer_video_bf16'][0]:.1f} frames/s "
         f"(goal >= 25): {met(ratio['fer_video_bf16'][0] >= 25)}.")
text = "\n".join([
    f"Measured by scripts/bench/compare.sh, fer and PyTorch {pb['fp32']['torch']} from Python back to back, "
    f"{fb['fp32']['threads']} threads each, on: {host}.",
    f"Matrix multiply 2048x2048 in this run: fp32 {fb['fp32']['mm_gflops_fp32']:.0f} GFLOP/s, "
    f"bf16 {fb['bf16']['mm_gflops']:.0f} GFLOP/s; fer's training step: fp32 "
    f"{fb['fp32']['model'] * 3 * fb['fp32']['forward_gflop']:.0f} GFLOP/s, bf16 "
    f"{fb['bf16']['model'] * 3 * fb['bf16']['forward_gflop']:.0f} GFLOP/s "
    f"({3 * fb['fp32']['forward_gflop']:.1f} GFLOP per image).",
    "", "| measure | fer | PyTorch | ratio | unit |", "|---|---:|---:|---:|---|", *rows, "", goals, ""])
open(f"{out}/compare.md", "w").write(text)
print(text)
print(f"-> {out}/compare.md")
PYEOF
