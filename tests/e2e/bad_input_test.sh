#!/usr/bin/env bash
# The bad-input and fault battery (issue 20): images whose header declares gigapixels, a k-fold
# that cannot run, a kill between last.pt and best.pt, a full disk, two writers on one run,
# outputs that are symlinks, pipes or directories, temporaries left by a killed writer, and
# `fer eval --checkpoint last`. Each case failed before its fix. Tiny models: well under 2 min.
# Usage: bad_input_test.sh FER_BINARY
set -uo pipefail
FER=$1
. "$(dirname "$0")/lib.sh"

"$FER" synth --out "$T/data" --classes 4 --per-class 12 --size 40 --seed 3 >/dev/null 2>&1 ||
  { echo "FAIL: fer synth"; exit 1; }
cat >"$T/tiny.json" <<JSON
{
  "name": "tiny", "seed": 5, "threads": 1,
  "data": {"format": "image_folder", "path": "$T/data", "workers": 1,
           "split": {"scheme": "ratio", "ratios": [0.6, 0.2, 0.2]}},
  "preprocess": {"size": 36, "channels": 1, "normalize": "none"},
  "augment": {"crop": 32, "hflip": 0.5},
  "model": {"name": "resnet18", "width": 4},
  "train": {"epochs": 2, "batch_size": 16, "optimizer": "adam", "lr": 0.01, "scheduler": "none"}
}
JSON
train() { "$FER" train --config "$T/tiny.json" --no-progress "$@"; }
# A PNG whose header declares 20000 x 20000 pixels (400 MP; decoding it would take 1.2 GB per
# plane): what a 431 KB decompression bomb looks like before its data.
$PY - "$T/bomb.png" <<'PYEOF'
import struct, sys, zlib
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
ihdr = struct.pack('>IIBBBBB', 20000, 20000, 8, 0, 0, 0, 0)
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(b'\0' * 100000)))
PYEOF

# ---- 1: a config nested 40,000 levels deep ----
$PY -c "print('[' * 40000 + ']' * 40000)" >"$T/deep.json"
expect_exit 2 "a config nested 40000 deep is refused" -- "$FER" train --config "$T/deep.json" --out "$T/deep"
err_has "nested more than" && ok "the nesting message gives the limit" || bad "the nesting message gives the limit"

# ---- 1b: a launcher's variables: bad ones name the variable; a multi-process job is refused ----
expect_exit 2 "WORLD_SIZE=0 is refused" -- env RANK=0 WORLD_SIZE=0 "$FER" train --config "$T/tiny.json" --out "$T/ws0"
err_has "WORLD_SIZE=0: expected an integer >= 1" && ok "the message names WORLD_SIZE" || bad "the message names WORLD_SIZE"
expect_exit 2 "RANK >= WORLD_SIZE is refused" -- \
  env RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 "$FER" train --config "$T/tiny.json" --out "$T/rank2"
err_has "RANK=2: expected an integer in \\[0, 2)" && ok "the message names RANK" || bad "the message names RANK"
expect_exit 2 "a 2-process torchrun job is refused until data-parallel training lands" -- \
  env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 "$FER" train --config "$T/tiny.json" --out "$T/ddp"
err_has "not implemented yet" && ok "the message says so" || bad "the message says so"
check "nothing was written" test ! -e "$T/ddp"

# ---- 2: images over the pixel limit, refused from the header in every reader ----
expect_exit 0 "tiny run" -- train --out "$T/run"
cp "$T/data/happy/$(ls "$T/data/happy" | head -1)" "$T/face.png"
start=$(date +%s)
expect_exit 1 "fer infer on a 400 MP PNG fails" -- \
  timeout 60 "$FER" infer "$T/bomb.png" --run "$T/run" --detector none --json "$T/bomb.jsonl"
[ $(( $(date +%s) - start )) -lt 30 ] && ok "refused without decoding (under 30 s)" || bad "refused without decoding"
err_has "bomb.png" && err_has "20000x20000" && err_has "max-megapixels" &&
  ok "infer names the file, its size and the option" || bad "infer names the file, its size and the option"
expect_exit 0 "a raised limit is accepted by the option parser" -- "$FER" --max-megapixels 500 --version
cp -r "$T/data" "$T/data_bomb" && cp "$T/bomb.png" "$T/data_bomb/angry/"
expect_exit 1 "training on a folder holding it fails before any epoch" -- \
  train --out "$T/run_bomb" --set data.path="$T/data_bomb"
err_has "angry/bomb.png" && ok "training names the file" || bad "training names the file"
check "no checkpoint was written" test ! -e "$T/run_bomb/last.pt"
# ---- 9: a truncated JPEG is an error naming the file, not a libjpeg warning without one ----
# a 40 x 40 grey gradient (511 bytes), cut to its first 300 bytes
echo "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABQODxIPDRQSEBIXFRQYHjIhHhwcHj0sLiQySUBMS0dARkVQWnNiUFVtVkVGZIhlbXd7gYKBTmCNl4x9lnN+gXz/wAALCAAoACgBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/AOYt4+lalvH0rTt4+ladvH0rTt4+leeW8fStO3j6Vp28fStS3j6VS8VX/wBh0nyEP726zGPZf4j09CB+Oe1c5bx9K07ePpWnbx9K07ePpXn+tX/9q6tLOpzEv7uL/dHfoOpyefXFaFvH0rTt4+lalvH0ql4qv/sOk+Qh/e3WYx7L/EenoQPxz2rjLePpXR28fStO3j6Vp28fSvP9av8A+1dWlnU5iX93F/ujv0HU5PPrii3j6V//2Q==" | base64 -d >"$T/whole.jpg"
head -c 300 "$T/whole.jpg" >"$T/cut.jpg"
expect_exit 1 "fer infer on a truncated JPEG fails" -- \
  "$FER" infer "$T/cut.jpg" --run "$T/run" --detector none --json "$T/cut.jsonl"
err_has "cut.jpg: truncated JPEG" && ok "infer names the truncated file" || bad "infer names the truncated file"
expect_exit 0 "the whole JPEG is read" -- "$FER" infer "$T/whole.jpg" --run "$T/run" --detector none --json "$T/whole.jsonl"
cp -r "$T/data" "$T/data_cut"
for f in "$T"/data_cut/fear/*; do rm "$f"; cp "$T/cut.jpg" "${f%.*}.jpg"; done
expect_exit 1 "training on truncated JPEGs fails" -- train --out "$T/run_cut" --set data.path="$T/data_cut"
err_has "truncated JPEG" && err_has "data_cut/fear/" && ok "training names the truncated file" ||
  bad "training names the truncated file"

# ---- 11: a class missing from validation or test is named with its counts ----
cp -r "$T/data" "$T/data_few"
ls "$T"/data_few/disgust/* | tail -n +2 | xargs rm
expect_exit 0 "training with a one-image class" -- train --out "$T/run_few" --set data.path="$T/data_few" --set train.epochs=1
err_has 'class "disgust" has no sample in' && ok "the missing class is named with its counts" ||
  bad "the missing class is named with its counts"

mkdir -p "$T/photos" && cp "$T/bomb.png" "$T/face.png" "$T/photos/"
"$FER" align --in "$T/photos" --out "$T/aligned" --no-face center >"$T/out" 2>"$T/err"
grep "bomb.png" "$T/aligned/manifest.csv" | grep -q "megapixels" &&
  ok "fer align records the refusal in its manifest" || { bad "fer align records the refusal"; cat "$T/aligned/manifest.csv" "$T/err"; }

# ---- 3: a k-fold that cannot run is refused before any fold starts ----
start=$(date +%s)
expect_exit 2 "kfold with 100000 folds" -- timeout 60 "$FER" kfold --config "$T/tiny.json" \
  --set data.split.scheme=stratified_kfold --folds 100000 --out "$T/kf"
err_has "exceeds the 12 samples" && ok "kfold says why" || bad "kfold says why"
check "no fold directory was made" test ! -e "$T/kf/fold_1"
[ $(( $(date +%s) - start )) -lt 20 ] && ok "kfold refused at once" || bad "kfold refused at once"

# ---- 4: best.pt consistent with the run's record across a crash ----
# A kill after last.pt is written and before it is copied to best.pt: best.pt missing.
expect_exit 0 "one epoch" -- train --out "$T/crash" --set train.epochs=1
cp "$T/crash/last.pt" "$T/epoch1.pt"
rm "$T/crash/best.pt"
expect_exit 0 "resume after the crash" -- train --out "$T/crash" --resume --set train.epochs=2
err_has "repaired from last.pt" && ok "resume repairs best.pt" || bad "resume repairs best.pt"
check "best.pt exists again" test -s "$T/crash/best.pt"
# best.pt holding another epoch than the record: fer eval says so.
best=$(sed -n 's/.*best.pt = epoch \([0-9]*\).*/\1/p' "$T/crash/train.log" | tail -1)
if [ "$best" = 2 ]; then cp "$T/epoch1.pt" "$T/crash/best.pt"; else cp "$T/crash/last.pt" "$T/crash/best.pt"; fi
expect_exit 0 "eval of a stale best.pt" -- "$FER" eval --run "$T/crash" --no-html --bootstrap 0
err_has "best.pt is stale" && ok "eval warns that best.pt disagrees with the record" ||
  bad "eval warns that best.pt disagrees with the record"
# A kill mid-copy leaves a half best.pt.tmp.PID; a stopped fer infer leaves *.partial
touch "$T/crash/best.pt.tmp.4194305" "$T/crash/results.jsonl.partial"
expect_exit 0 "resume in a directory with left-over temporaries" -- train --out "$T/crash" --resume --set train.epochs=3
check "the next owner removes dead writers' temporaries" test ! -e "$T/crash/best.pt.tmp.4194305" -a ! -e "$T/crash/results.jsonl.partial"

# ---- 5: a full disk (a small tmpfs; needs root) ----
mnt="$T/small_disk"
mkdir -p "$mnt"
if mount -t tmpfs -o size=16m tmpfs "$mnt" 2>/dev/null; then
  size=$(stat -c %s "$T/run/last.pt")
  # room for the small files and last.pt, not for its copy to best.pt
  head -c $(( 16 * 1024 * 1024 - size * 3 / 2 - 256 * 1024 )) /dev/zero >"$mnt/filler"
  expect_exit 1 "training onto a full disk fails" -- train --out "$mnt/run" --set train.epochs=1
  err_has "no space left on device" && ok "the message says the disk is full" || { bad "the message says the disk is full"; cat "$T/err"; }
  err_has "best.pt" && ok "the message names the file" || bad "the message names the file"
  rm "$mnt/filler"
  expect_exit 0 "resume once space is freed" -- train --out "$mnt/run" --resume --set train.epochs=2
  check "best.pt exists after the resume" test -s "$mnt/run/best.pt"
  umount "$mnt"
else
  echo "SKIP: the full-disk case (mounting a tmpfs needs root)"
fi

# ---- 6: two writers on one run directory ----
set -m
train --out "$T/two" --set train.epochs=400 >"$T/first.out" 2>&1 &
first=$!
set +m
for _ in $(seq 300); do [ -s "$T/two/config.json" ] && break; sleep 0.1; done
expect_exit 2 "a second fer train on the same --out is refused" -- train --out "$T/two" --set train.epochs=400
err_has "another process is writing there" && ok "the refusal names the holder" || { bad "the refusal names the holder"; cat "$T/err"; }
for _ in $(seq 300); do [ -s "$T/two/last.pt" ] && break; sleep 0.1; done
kill -9 -- "-$first" 2>/dev/null
wait "$first" 2>/dev/null
expect_exit 0 "a lock left by a killed process is taken over" -- \
  train --out "$T/two" --resume --set train.epochs=1
err_has "taking over the lock" && ok "with a warning" || bad "with a warning"

# ---- 7: outputs that are symlinks, pipes or directories ----
echo old >"$T/target.jsonl"
ln -s "$T/target.jsonl" "$T/link.jsonl"
expect_exit 0 "infer --json through a symlink" -- \
  "$FER" infer "$T/face.png" --run "$T/run" --detector none --json "$T/link.jsonl"
check "the symlink stays a symlink" test -L "$T/link.jsonl"
grep -q '"probs"' "$T/target.jsonl" && ok "its target holds the results" ||
  { bad "its target holds the results"; head -3 "$T/target.jsonl"; }
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/fifo.out" &
reader=$!
expect_exit 0 "infer --json into a pipe" -- \
  "$FER" infer "$T/face.png" --run "$T/run" --detector none --json "$T/fifo"
wait "$reader"
check "the pipe stays a pipe" test -p "$T/fifo"
check "the reader got the results" test -s "$T/fifo.out"
mkdir "$T/outdir"
expect_exit 2 "infer --json naming a directory" -- \
  "$FER" infer "$T/face.png" --run "$T/run" --detector none --json "$T/outdir"
err_has "is a directory" && ok "says it is a directory" || bad "says it is a directory"

# ---- 13: damaged files are named with what is wrong ----
cp -r "$T/run" "$T/run_split" && head -c 40 "$T/run/split.json" >"$T/run_split/split.json"
expect_exit 1 "resume with a cut split.json" -- train --out "$T/run_split" --resume --set train.epochs=3
err_has "run_split/split.json: not valid JSON" && ok "names split.json" || bad "names split.json"
if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  /usr/bin/python3 - "$T" <<'PYEOF'
import sys, h5py, numpy as np
t = sys.argv[1]
with h5py.File(t + "/lzf.h5", "w") as f:  # h5py's own filter, absent from libhdf5
    f.create_dataset("data_pixel", data=np.zeros((30, 48, 48), np.uint8), compression="lzf")
    f.create_dataset("data_label", data=np.arange(30) % 7)
with h5py.File(t + "/huge.h5", "w") as f:  # declares 10^9 faces in a 2 KB file
    f.create_dataset("data_pixel", shape=(10**9, 48, 48), dtype=np.uint8, chunks=(1, 48, 48), compression="gzip")
    f.create_dataset("data_label", shape=(10**9,), dtype=np.int64, chunks=(1024,), compression="gzip")
PYEOF
  for f in lzf huge; do
    expect_exit 1 "CK+ HDF5 ($f)" -- train --out "$T/run_$f" --set data.format=ck_plus_h5 --set data.path="$T/$f.h5"
    cp "$T/err" "$T/err_$f"
  done
  grep -q 'lzf.h5: "data_pixel" is compressed with the HDF5 filter "lzf"' "$T/err_lzf" &&
    ok "names the missing filter" || bad "names the missing filter"
  grep -q 'huge.h5: "data_label" declares shape \[1000000000\]' "$T/err_huge" &&
    ok "refuses an impossible size by name" || bad "refuses an impossible size by name"
else
  echo "SKIP: the HDF5 cases (/usr/bin/python3 has no h5py)"
fi

# data.classes and class_weights are checked once the dataset is read: still with file:line,
# and by fer kfold before any fold starts.
cat >"$T/cls.json" <<JSON
{
  "name": "cls", "seed": 5, "threads": 1,
  "data": {"format": "image_folder", "path": "$T/data", "workers": 1,
           "classes": ["contempt"],
           "split": {"scheme": "ratio", "ratios": [0.6, 0.2, 0.2]}},
  "preprocess": {"size": 36, "channels": 1, "normalize": "none"},
  "model": {"name": "resnet18", "width": 4},
  "train": {"epochs": 1, "batch_size": 16,
            "class_weights": [1, 2]}
}
JSON
expect_exit 2 "an unknown class in data.classes" -- "$FER" train --config "$T/cls.json" --out "$T/run_cls"
err_has 'cls.json:4: /data/classes/0: unknown class "contempt"' && ok "names its file and line" ||
  { bad "names its file and line"; cat "$T/err"; }
sed '4d' "$T/cls.json" >"$T/cw.json"
expect_exit 2 "two class weights for four classes" -- "$FER" train --config "$T/cw.json" --out "$T/run_cw"
err_has 'cw.json:8: /train/class_weights: expected one weight per class, got 2 weights for 4 classes' &&
  ok "names its file and line" || { bad "names its file and line"; cat "$T/err"; }
expect_exit 2 "fer kfold with two class weights for four classes" -- "$FER" kfold --config "$T/cw.json" \
  --set data.split.scheme=stratified_kfold --folds 3 --out "$T/kf_cw"
err_has 'cw.json:8: /train/class_weights' && ok "refused in the parent, with file and line" ||
  { bad "refused in the parent, with file and line"; cat "$T/err"; }
check "no fold was started" test ! -e "$T/kf_cw/fold_1"
expect_exit 2 "fer kfold --precision fp16 on a CPU" -- "$FER" kfold --config "$T/tiny.json" \
  --set data.split.scheme=stratified_kfold --folds 3 --precision fp16 --out "$T/kf_fp16"
err_has "fp16 mixed precision needs a CUDA device" && ok "refused in the parent, saying why" ||
  { bad "refused in the parent, saying why"; cat "$T/err"; }
check "no fold was started" test ! -e "$T/kf_fp16/fold_1"

# ---- 14: --checkpoint last is labelled as such and kept apart ----
expect_exit 0 "eval best" -- "$FER" eval --run "$T/run" --no-html --bootstrap 0
cp "$T/run/eval_test.json" "$T/eval_best.json"
expect_exit 0 "eval --checkpoint last" -- "$FER" eval --run "$T/run" --checkpoint last --no-html --bootstrap 0
out_has "the last epoch, not selected" && ok "last.pt is not called selected" || bad "last.pt is not called selected"
check "eval_test_last.json written" test -s "$T/run/eval_test_last.json"
cmp -s "$T/run/eval_test.json" "$T/eval_best.json" && ok "eval_test.json (best.pt) left as it was" ||
  bad "eval_test.json (best.pt) left as it was"

# ---- 14: a checkpoint of another run is named as such (not "the data changed") ----
expect_exit 0 "another run on the same data" -- train --out "$T/other" --set seed=6 --set train.epochs=1
expect_exit 1 "eval --run A --checkpoint B/best.pt" -- \
  "$FER" eval --run "$T/run" --checkpoint "$T/other/best.pt" --no-html --bootstrap 0
err_has "is not a checkpoint of the run in" && err_has "written by another run" &&
  ok "says the checkpoint belongs to another run" || { bad "says the checkpoint belongs to another run"; cat "$T/err"; }
cp -r "$T/run" "$T/run_foreign" && cp "$T/other/best.pt" "$T/run_foreign/best.pt"
expect_exit 1 "eval of a best.pt copied in from another run" -- "$FER" eval --run "$T/run_foreign" --no-html --bootstrap 0
err_has "written by another run" && ok "says so" || { bad "says so"; cat "$T/err"; }
expect_exit 0 "resume with a best.pt from another run" -- train --out "$T/run_foreign" --resume --set train.epochs=3
err_has "best.pt was written by another run" && ok "resume does not take it for this run's" ||
  { bad "resume does not take it for this run's"; cat "$T/err"; }
expect_exit 0 "eval after that resume" -- "$FER" eval --run "$T/run_foreign" --no-html --bootstrap 0

# ---- 14: command-line messages ----
expect_exit 2 "an unknown command" -- "$FER" frobnicate
err_has 'unknown command "frobnicate"' && ok "is named" || bad "is named"
expect_exit 2 "--every 0" -- "$FER" infer --run "$T/run" --every 0 "$T/face.png"
err_has "expected a whole number >= 1, got 0" && ok "--every 0 says what it expects" || bad "--every 0 says what it expects"
expect_exit 2 "--threads many" -- "$FER" eval --run "$T/run" --threads many
err_has "(not a number)" && ok "a word is not a number" || bad "a word is not a number"
expect_exit 2 "eval --checkpoint foo is a usage error" -- "$FER" eval --run "$T/run" --checkpoint foo

echo "bad_input_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
