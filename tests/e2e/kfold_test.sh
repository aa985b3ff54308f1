#!/usr/bin/env bash
# End-to-end tests of `fer kfold` and `fer kfold report` through the binary on a tiny synthetic
# dataset: 3 folds in 2 parallel jobs, the report files and numbers, resume (only a fold without
# eval_test.json is redone), SIGTERM and resume, fold index out of range, a fold dir of another
# config, non-k-fold config. With the source dir and ../shared/data: scripts/ck_plus_reference.sh
# on CK+ fold 1, narrow model, 1 epoch, and stopped by Ctrl-C.
# Usage: kfold_test.sh FER_BINARY [SOURCE_DIR SHARED_DATA_DIR]
set -uo pipefail
FER=$1
SRC=${2:-}
SHARED=${3:-}
. "$(dirname "$0")/lib.sh"

expect_exit 0 "synth" -- "$FER" synth --out "$T/d" --classes 3 --per-class 20 --size 32 --seed 3
cat >"$T/k.json" <<EOF
{
  "name": "kf",
  "seed": 1,
  "data": {"format": "image_folder", "path": "$T/d",
           "split": {"scheme": "stratified_kfold", "folds": 3}},
  "preprocess": {"size": 32, "channels": 1, "normalize": "dataset"},
  "model": {"name": "resnet18", "width": 4},
  "train": {"epochs": 1, "batch_size": 16}
}
EOF
K="$T/kf"

expect_exit 0 "kfold --folds 3 --jobs 2" -- "$FER" kfold --config "$T/k.json" --folds 3 --jobs 2 --out "$K"
for f in kfold.json kfold_report.json kfold_report.csv kfold_report.md kfold_confusion.png kfold_accuracy.png \
         kfold_report.html fold_1/report_test.html fold_1/eval_test.json fold_2/eval_test.json fold_3/eval_test.json fold_2/kfold.log fold_3/best.pt; do
  check "wrote $f" test -s "$K/$f"
done
check "fold 2 trained on fold 2" $PY -c "import json,sys; c=json.load(open(sys.argv[1])); sys.exit(c['data']['split']['fold']!=2 or c['data']['split']['folds']!=3)" "$K/fold_2/config.json"
check "threads split between 2 jobs" grep -q "threads=" "$K/fold_1/kfold.log"
check "report mean accuracy = mean of the folds' eval_test.json" $PY - "$K" <<'EOF'
import json, sys, statistics
d = sys.argv[1]
accs = [json.load(open(f"{d}/fold_{i}/eval_test.json"))["accuracy"] for i in (1, 2, 3)]
r = json.load(open(f"{d}/kfold_report.json"))
ok = abs(r["accuracy"]["mean"] - sum(accs) / 3) < 1e-12 and abs(r["accuracy"]["std"] - statistics.stdev(accs)) < 1e-12
conf = [json.load(open(f"{d}/fold_{i}/eval_test.json"))["confusion"]["counts"] for i in (1, 2, 3)]
summed = [[sum(c[t][p] for c in conf) for p in range(3)] for t in range(3)]
ok = ok and r["pooled"]["confusion"] == summed and r["complete"] and r["checkpoint_selected_on"] == ["val"]
sys.exit(0 if ok else 1)
EOF
check "csv has header + 3 folds + mean + std" test "$(wc -l <"$K/kfold_report.csv")" -eq 6
check "kfold_report.html: offline, both figures embedded, every fold's accuracy" $PY - "$K" <<'EOF'
import json, sys
d = sys.argv[1]
h = open(f"{d}/kfold_report.html").read()
accs = ["%.4f" % json.load(open(f"{d}/fold_{i}/eval_test.json"))["accuracy"] for i in (1, 2, 3)]
ok = h.count("data:image/png;base64,") == 2 and "http://" not in h and "https://" not in h and "<script" not in h
sys.exit(0 if ok and all(a in h for a in accs) and "kfold.json" in h else 1)
EOF
check "kfold.json lists the done folds" $PY -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(j['folds_done']!=[1,2,3] or j['folds']!=3)" "$K/kfold.json"

# ---- resume: only the fold without eval_test.json is redone ----
m1=$(stat -c %Y.%y "$K/fold_1/eval_test.json")
m3=$(stat -c %Y.%y "$K/fold_3/eval_test.json")
rm "$K/fold_2/eval_test.json"
sleep 1
expect_exit 0 "kfold re-run after deleting fold 2's eval" -- "$FER" kfold --config "$T/k.json" --folds 3 --jobs 2 --out "$K"
check "fold 1 skipped" out_has "fold 1: done"
check "fold 2 continued from last.pt" out_has "fold 2: training (resuming"
check "fold 2 evaluated again" test -s "$K/fold_2/eval_test.json"
check "fold 1 eval unchanged" test "$(stat -c %Y.%y "$K/fold_1/eval_test.json")" = "$m1"
check "fold 3 eval unchanged" test "$(stat -c %Y.%y "$K/fold_3/eval_test.json")" = "$m3"

# ---- fer kfold report alone; a missing fold gives exit 1 and names it ----
expect_exit 0 "kfold report" -- "$FER" kfold report "$K"
check "report prints the mean" out_has "accuracy .*% +- "
mv "$K/fold_3/eval_test.json" "$T/e3.json"
expect_exit 1 "kfold report with fold 3 missing" -- "$FER" kfold report "$K"
check "missing fold named" err_has "folds missing (no eval_test.json): 3"
check "json says missing" $PY -c "import json,sys; sys.exit(json.load(open(sys.argv[1]))['folds_missing']!=[3])" "$K/kfold_report.json"
mv "$T/e3.json" "$K/fold_3/eval_test.json"

# ---- SIGTERM (a scheduler's stop): the running fold keeps last.pt, no other fold starts, and
# fer kfold ends by the signal (exit status 143) ----
interrupt_after "$T/kt/fold_1/history.csv" 2 TERM -- "$FER" kfold --config "$T/k.json" --folds 3 --out "$T/kt" \
  --set train.epochs=30
check "SIGTERM: fer kfold ends by it (exit status 143, got $rc)" test "$rc" -eq 143
check "SIGTERM: the fold says it stopped" out_has "fold 1: stopped (train interrupted); continue it"
check "SIGTERM: how to continue" err_has "interrupted: 0 of 3 folds done and kept in"
check "SIGTERM: fold 1 kept last.pt" test -s "$T/kt/fold_1/last.pt"
check "SIGTERM: no other fold started" test ! -e "$T/kt/fold_2" -a ! -e "$T/kt/fold_3"
expect_exit 0 "the same command again after SIGTERM" -- "$FER" kfold --config "$T/k.json" --folds 3 --out "$T/kt" \
  --set train.epochs=30
check "the interrupted fold 1 continued from last.pt" out_has "fold 1: training (resuming from last.pt)"
check "fold 1 ran its 30 epochs, every fold is done" $PY -c "
import json, sys
d = sys.argv[1]
sys.exit(sum(1 for _ in open(d + '/fold_1/history.csv')) != 31 or json.load(open(d + '/kfold.json'))['folds_done'] != [1, 2, 3])" "$T/kt"

# ---- bad usage and foreign run dirs, before anything runs ----
expect_exit 2 "fold index out of range" -- "$FER" kfold --config "$T/k.json" --folds 3 --fold 4 --out "$K"
check "range message" err_has "--fold 4: out of range, expected 1..3"
expect_exit 2 "fold dir of another config" -- "$FER" kfold --config "$T/k.json" --folds 3 --out "$K" --set train.lr=0.5
check "names the dir and key" err_has "fold_1: holds a run of another config (differs at /train/lr"
sed 's/"stratified_kfold", "folds": 3/"ratio"/' "$T/k.json" >"$T/ratio.json"
expect_exit 2 "non-k-fold scheme" -- "$FER" kfold --config "$T/ratio.json" --folds 3 --out "$T/r"
check "scheme message" err_has 'data.split.scheme is "ratio"'
check "nothing ran for the bad scheme" test ! -e "$T/r"

# ---- the CK+ reference script, one fold under both protocols (narrow model, one epoch) ----
CK="$SHARED/ck_plus/CK_data.h5"
if [ -n "$SRC" ] && [ -f "$CK" ]; then
  R="$T/ref"
  expect_exit 0 "ck_plus_reference.sh, fold 1" -- env -C "$SRC" FOLDS=1 FER="$FER" bash scripts/ck_plus_reference.sh "$R" \
    --set data.path="$CK" --set model.width=8 --set train.epochs=1
  check "reference.md written" test -s "$R/reference.md"
  check "fold 1 row has both protocols and the last epoch" grep -Eq '^\| 1 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$' "$R/reference.md"
  check "both protocols and the no-selection row 1/10" test "$(grep -c ' 1/10 ' "$R/reference.md")" -eq 3
  check "no selection = the seed-protocol run's last-epoch test accuracy" $PY -c "
import csv, re, sys
last = float(list(csv.DictReader(open(sys.argv[2])))[-1]['val_acc'])
row = re.search(r'^\| 1 \| [0-9.]+ \| [0-9.]+ \| ([0-9.]+) \|$', open(sys.argv[1]).read(), re.M)
sys.exit(abs(float(row.group(1)) - 100 * last) > 0.006)" "$R/reference.md" "$R/seed_protocol/fold_1/history.csv"
  check "clean chose on val" $PY -c "import json,sys; sys.exit(json.load(open(sys.argv[1]))['checkpoint_selected_on']!='val')" "$R/clean/fold_1/eval_test.json"
  check "seed protocol chose on test" $PY -c "import json,sys; sys.exit(json.load(open(sys.argv[1]))['checkpoint_selected_on']!='test')" "$R/seed_protocol/fold_1/eval_test.json"
  check "the recipe's schedule reached the folds" $PY -c "import json,sys; t=json.load(open(sys.argv[1]))['train']; sys.exit(t['decay_start']!=20 or t['grad_clip_value']!=0.1)" "$R/clean/fold_1/config.json"
  check "reference.md names the host of run.json" $PY -c "
import json, sys
sys.exit(json.load(open(sys.argv[1]))['host'] not in open(sys.argv[2]).read())" "$R/clean/fold_1/run.json" "$R/reference.md"
  # A reference run in pieces on two kinds of host says which fold ran where.
  $PY -c "import json,sys; p=sys.argv[1]; r=json.load(open(p)); r['host']='Other CPU, 2 cores, AVX512 kernels'; json.dump(r, open(p, 'w'))" \
    "$R/seed_protocol/fold_1/run.json"
  expect_exit 0 "ck_plus_reference.sh again: fold 1 is done, only the summary" -- env -C "$SRC" FOLDS=1 FER="$FER" \
    bash scripts/ck_plus_reference.sh "$R" --set data.path="$CK" --set model.width=8 --set train.epochs=1
  check "two hosts named, fold 1 clean on A and seed protocol on B" $PY -c "
import json, re, sys
text = open(sys.argv[2]).read()
ok = 'host A: ' + json.load(open(sys.argv[1]))['host'] in text and 'host B: Other CPU, 2 cores, AVX512 kernels' in text
sys.exit(not (ok and re.search(r'^\| 1 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| A/B \|$', text, re.M)))" \
    "$R/clean/fold_1/run.json" "$R/reference.md"
  # Ctrl-C stops the script: the clean run of fold 1 keeps last.pt and the seed-protocol run never starts.
  interrupt_after "$T/ref_int/clean/fold_1/history.csv" 2 INT -- env -C "$SRC" FOLDS=1 FER="$FER" \
    bash scripts/ck_plus_reference.sh "$T/ref_int" --set data.path="$CK" --set model.width=8 --set train.epochs=500
  check "Ctrl-C: ck_plus_reference.sh ends by SIGINT (exit status 130, got $rc)" test "$rc" -eq 130
  check "Ctrl-C: the script says how to continue" err_has "interrupted: run the same command again to continue"
  check "Ctrl-C: the clean run of fold 1 kept last.pt" test -s "$T/ref_int/clean/fold_1/last.pt"
  check "Ctrl-C: the seed-protocol run did not start" test ! -e "$T/ref_int/seed_protocol/fold_1"
  # The same with the script started by `nohup ... &` from another script: it begins with SIGINT
  # ignored, so its trap cannot fire, and only fer's exit status tells it to stop.
  interrupt_after "$T/ref_ign/clean/fold_1/history.csv" 2 INT -- env -C "$SRC" FOLDS=1 FER="$FER" \
    bash -c 'trap "" INT; exec bash scripts/ck_plus_reference.sh "$@"' - "$T/ref_ign" \
    --set data.path="$CK" --set model.width=8 --set train.epochs=500
  check "Ctrl-C, SIGINT ignored by the script: exit status 130 (got $rc)" test "$rc" -eq 130
  check "Ctrl-C, SIGINT ignored by the script: the seed-protocol run did not start" \
    test ! -e "$T/ref_ign/seed_protocol/fold_1" -a -s "$T/ref_ign/clean/fold_1/last.pt"
  expect_exit 2 "--fold is refused (FOLDS picks folds)" -- env -C "$SRC" FER="$FER" bash scripts/ck_plus_reference.sh "$R" --fold 2
else
  echo "SKIP: ck_plus_reference.sh (no source dir or no $CK)"
fi

echo "kfold e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
