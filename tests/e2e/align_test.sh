#!/usr/bin/env bash
# End-to-end tests of `fer align` through the binary, on a small folder made from the real
# photos in ../shared/data/faces: exit codes, manifest rows, incremental re-run, bad input.
# Usage: align_test.sh FER_BINARY SOURCE_DIR SHARED_DATA_DIR
set -uo pipefail
FER=$1
SRC=$2
SHARED=${3:-}
FACES="$SHARED/faces"
if [ -z "$SHARED" ] || [ ! -d "$FACES" ]; then
  echo "SKIP: $FACES is absent: fer align end-to-end test skipped"
  exit 77  # ctest's SKIP_RETURN_CODE: reported as skipped, not passed
fi
. "$(dirname "$0")/lib.sh"
# rows FILE: data rows of a manifest (csv module: quoted fields count once)
rows() { $PY -c "import csv,sys; print(len(list(csv.reader(open(sys.argv[1])))) - 1)" "$1"; }
# col FILE SOURCE COLUMN: that column of the first row of SOURCE
col() {
  $PY -c "import csv,sys; r=[x for x in csv.DictReader(open(sys.argv[1])) if x['source']==sys.argv[2]]; print(r[0][sys.argv[3]] if r else '')" "$@"
}

# ---- a small dataset: two class folders ----
mkdir -p "$T/raw/happy" "$T/raw/sad"
cp "$FACES/Tom_Cruise_avp_2014_4.jpg" "$T/raw/happy/tom.jpg"          # one face
cp "$FACES/2008_001009.jpg" "$T/raw/happy/kids.jpg"                   # two faces
cp "$FACES/2009_004587.jpg" "$T/raw/sad/pair.jpg"                      # two faces
cp "$FACES/dogs.jpg" "$T/raw/sad/dogs.jpg"                             # no human face
cp "$FACES/2008_002506.jpg" "$T/raw/sad/group, outdoors.jpg"           # a comma in the name
echo "not an image" >"$T/raw/notes.txt"                                # not an image: ignored

expect_exit 0 "fer align --help" -- "$FER" align --help
grep -q -- "--no-face" "$T/out" && ok "help lists --no-face" || bad "help lists --no-face"

expect_exit 0 "align a clean folder" -- "$FER" align --in "$T/raw" --out "$T/al" --size 64 --threads 2 --no-progress
check "manifest has a row per image" test "$(rows "$T/al/manifest.csv")" -eq 5
check "fer_align.json written" test -s "$T/al/fer_align.json"
check "fer_align.json records size 64" test "$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['face']['size'])" "$T/al/fer_align.json")" = 64
check "class folders kept" test -s "$T/al/happy/tom.png" -a -s "$T/al/sad/pair.png"
check "comma in a name survives" test -s "$T/al/sad/group, outdoors.png"
check "no output for the dog photo" test ! -e "$T/al/sad/dogs.png"
check "dog photo skipped" test "$(col "$T/al/manifest.csv" sad/dogs.jpg status)" = skipped_no_face
check "one face in tom.jpg" test "$(col "$T/al/manifest.csv" happy/tom.jpg faces_found)" = 1
check "tom.jpg aligned by the eyes" test "$(col "$T/al/manifest.csv" happy/tom.jpg status)" = aligned
check "aligned images are 64x64" $PY - "$T/al/happy/tom.png" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read(24)
w, h = struct.unpack(">II", d[16:24])
sys.exit(0 if d[:8] == b"\x89PNG\r\n\x1a\n" and (w, h) == (64, 64) else 1)
PYEOF
grep -q "aligned now: 4" "$T/err" && ok "summary: 4 aligned" || { bad "summary: 4 aligned"; cat "$T/err"; }
grep -q "no face: 1" "$T/err" && ok "summary: 1 without a face" || bad "summary: 1 without a face"

expect_exit 0 "second run" -- "$FER" align --in "$T/raw" --out "$T/al" --size 64 --threads 2 --no-progress
grep -q "aligned now: 0" "$T/err" && ok "second run aligns nothing" || { bad "second run aligns nothing"; cat "$T/err"; }
grep -q "already done: 5" "$T/err" && ok "second run: 5 already done" || bad "second run: 5 already done"

# ---- a corrupt file: reported, the rest goes on, exit 1 ----
echo "garbage, not a JPEG" >"$T/raw/sad/corrupt.jpg"
expect_exit 1 "a corrupt image fails the run" -- "$FER" align --in "$T/raw" --out "$T/al" --size 64 --threads 2 --no-progress
err_has "corrupt.jpg" && ok "corrupt image is named" || bad "corrupt image is named"
check "manifest now has 6 rows" test "$(rows "$T/al/manifest.csv")" -eq 6
check "corrupt row says why" test "$(col "$T/al/manifest.csv" sad/corrupt.jpg status)" = "error: cannot decode image"
expect_exit 1 "fresh folder with a corrupt image" -- "$FER" align --in "$T/raw" --out "$T/al2" --size 64 --threads 2 --no-progress
grep -q "aligned now: 4" "$T/err" && ok "the good images are still aligned" || bad "the good images are still aligned"

# ---- multi "all": one row per face ----
rm "$T/raw/sad/corrupt.jpg"
expect_exit 0 "--multi all" -- "$FER" align --in "$T/raw" --out "$T/all" --size 48 --multi all --gray --threads 2 --no-progress
check "--multi all: a row per face (+ the dog photo)" $PY - "$T/all/manifest.csv" "$T/al/manifest.csv" <<'PYEOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
faces = sum(int(r["faces_found"]) for r in csv.DictReader(open(sys.argv[2])))
sys.exit(0 if len(rows) == faces + 1 and faces >= 6 else 1)
PYEOF
check "--multi all names files <stem>_<k>.png" test -s "$T/all/happy/kids_0.png" -a -s "$T/all/happy/kids_1.png"

# ---- settings are fixed per output folder ----
expect_exit 2 "other settings on the same --out" -- "$FER" align --in "$T/raw" --out "$T/al" --size 80 --no-progress
err_has "fer_align.json" && ok "mismatch names fer_align.json" || bad "mismatch names fer_align.json"
err_has "face.size" && ok "mismatch names face.size" || bad "mismatch names face.size"
expect_exit 0 "--force redoes it" -- "$FER" align --in "$T/raw" --out "$T/al" --size 80 --force --threads 2 --no-progress
expect_exit 0 "--face-config from fer_align.json" -- "$FER" align --in "$T/raw" --out "$T/al" --face-config "$T/al/fer_align.json" --no-progress
grep -q "aligned now: 0" "$T/err" && ok "same settings from the file: nothing to redo" || bad "same settings from the file: nothing to redo"

# ---- bad input ----
expect_exit 2 "missing --in" -- "$FER" align --out "$T/x"
err_has "--in" && ok "missing --in is named" || bad "missing --in is named"
expect_exit 2 "--in that does not exist" -- "$FER" align --in "$T/nope" --out "$T/x"
err_has "$T/nope" && ok "missing folder is named" || bad "missing folder is named"
expect_exit 2 "--out inside --in" -- "$FER" align --in "$T/raw" --out "$T/raw/aligned"
err_has "inside --in" && ok "--out inside --in is explained" || bad "--out inside --in is explained"
expect_exit 1 "missing landmark model" -- "$FER" align --in "$T/raw" --out "$T/lm" --landmark-model /nonexistent/shape.dat
err_has "libdlib-data" && ok "missing model names libdlib-data" || bad "missing model names libdlib-data"
err_has "/nonexistent/shape.dat" && ok "missing model names the file" || bad "missing model names the file"
expect_exit 2 "bad --multi" -- "$FER" align --in "$T/raw" --out "$T/x" --multi some

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
