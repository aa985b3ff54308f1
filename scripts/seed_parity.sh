#!/usr/bin/env bash
# Side-by-side parity with the seed's own CK+ code: runs the original PyTorch code
# (../shared/reference/seed_ck_plus, ResNet18) and `fer train` on the same folds under the seed's
# protocol (the test fold scored after every epoch, the best epoch kept), on this machine, and
# writes one table and one plot of the per-epoch test accuracies.
#
# Usage: scripts/seed_parity.sh [OUT] [fer train options...]
#   OUT defaults to runs/seed_parity. Further options go to every `fer train` call (--set ...).
#   FOLDS="1 10"   the folds (default 1 and 10)
#   RUN="seed fer" what to run (default both; "report" only rewrites the table and plot)
#   VARIANT=fer    the name of fer's rows and directory (OUT/VARIANT/fold_K), so variants of one
#                  candidate (--set model.init=model ...) sit in the same table
#   FER=build/fer, CONFIG=configs/ck_plus_resnet18.json, SEED_CODE=../shared/reference/seed_ck_plus,
#   CK_H5=../shared/data/ck_plus/CK_data.h5, THREADS=2 (both programs)
# Resumable: fer continues from last.pt; a seed-code fold is complete when its log has all 60
# epochs, otherwise it starts again from epoch 0 (the seed's own --resume restarts from its best
# checkpoint, which would change the curve). Ctrl-C stops it; the same command continues.
# Writes OUT/parity.md, OUT/parity.csv (every epoch) and OUT/parity.png (needs python3-matplotlib).
set -uo pipefail
OUT=${1:-runs/seed_parity}
[ $# -gt 0 ] && shift
FER=${FER:-build/fer}
CONFIG=${CONFIG:-configs/ck_plus_resnet18.json}
FOLDS=${FOLDS:-1 10}
RUN=${RUN:-seed fer}
VARIANT=${VARIANT:-fer}
SEED_CODE=${SEED_CODE:-../shared/reference/seed_ck_plus}
CK_H5=$(realpath -m "${CK_H5:-../shared/data/ck_plus/CK_data.h5}")
THREADS=${THREADS:-2}
PY=/usr/bin/python3
case "$VARIANT" in seed|*/*|"") echo "error: VARIANT=$VARIANT: a plain name other than seed" >&2; exit 2 ;; esac
for f in $FOLDS; do
  [[ "$f" =~ ^([1-9]|10)$ ]] || { echo "error: FOLDS: fold \"$f\" is not 1..10" >&2; exit 2; }
done
if [[ " $RUN " == *" fer "* ]]; then
  [ -x "$FER" ] || { echo "error: $FER: no fer binary (scripts/build.sh, or set FER=...)" >&2; exit 2; }
fi
if [[ " $RUN " == *" seed "* ]]; then
  [ -f "$SEED_CODE/mainpro_CK+.py" ] || { echo "error: $SEED_CODE: no seed code (mainpro_CK+.py)" >&2; exit 2; }
  [ -f "$CK_H5" ] || { echo "error: $CK_H5: no CK+ h5 (set CK_H5=...)" >&2; exit 2; }
fi
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
stop=
trap 'stop=INT' INT
trap 'stop=TERM' TERM
stopped() { [ -n "$stop" ] || [ "$1" -ge 128 ]; }

run_seed() {  # fold
  local d="$OUT/seed/fold_$1"
  if [ -f "$d/output" ] && [ "$(grep -c '^EPOCH ' "$d/output")" -ge 60 ]; then return 0; fi
  rm -rf "$d" && mkdir -p "$d" && cp -r "$SEED_CODE"/. "$d/code" && chmod -R u+w "$d/code"
  echo "seed code, fold $1 -> $d/output"
  # The seed prints one EPOCH line per epoch (test accuracy after ten-crop averaging).
  (cd "$d/code" && CK_H5="$CK_H5" THREADS="$THREADS" nice -n 19 "$PY" -u mainpro_CK+.py --model Resnet18 --fold "$1") \
    >"$d/output.partial" 2>&1
  local rc=$?
  # Only a complete log becomes `output`; an interrupted one stays .partial (the fold reruns).
  [ $rc -eq 0 ] && mv "$d/output.partial" "$d/output" && rm -rf "$d/code/CK+_Resnet18"
  return $rc
}

run_fer() {  # fold, extra options
  local k=$1; shift
  local d="$OUT/$VARIANT/fold_$k" resume=()
  [ -f "$d/eval_test.json" ] && return 0
  [ -f "$d/last.pt" ] && resume=(--resume)
  mkdir -p "$OUT/$VARIANT"
  printf '%s\n' "$*" >"$OUT/$VARIANT/options.txt"
  echo "fer ($VARIANT), fold $k -> $d"
  nice -n 19 "$FER" train --config "$CONFIG" --out "$d" "${resume[@]}" --set data.split.fold="$k" \
    --set data.split.select_on_test=true --set threads="$THREADS" "$@" || return $?
  # best.pt on the test fold (the best epoch's number, ten-crop as configured): marks the fold done
  nice -n 19 "$FER" eval --run "$d" --threads "$THREADS" >"$d/eval.log" 2>&1
}

report() {
  "$PY" - "$OUT" "$("${FER}" --version 2>/dev/null || echo 'fer ?')" "$(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)" <<'PYEOF'
import csv, glob, json, os, re, sys
out, version, host = sys.argv[1:4]

def seed_curve(fold):
    for name in ("output", "output.partial"):
        p = os.path.join(out, "seed", f"fold_{fold}", name)
        if os.path.exists(p):
            acc = [float(m.group(1)) / 100 for m in re.finditer(r"^EPOCH \d+ test ([\d.]+)", open(p).read(), re.M)]
            return acc, name == "output"
    return [], False

def fer_curve(variant, fold):
    p = os.path.join(out, variant, f"fold_{fold}", "history.csv")
    if not os.path.exists(p):
        return [], False
    rows = list(csv.DictReader(open(p)))
    done = os.path.exists(os.path.join(out, variant, f"fold_{fold}", "eval_test.json"))
    return [float(r["val_acc"]) for r in rows], done

variants = sorted(os.path.basename(d) for d in glob.glob(os.path.join(out, "*"))
                  if os.path.isdir(d) and os.path.basename(d) != "seed")
folds = sorted({int(m.group(1)) for d in glob.glob(os.path.join(out, "*", "fold_*"))
                for m in [re.search(r"fold_(\d+)$", d)] if m})
curves = {}
for k in folds:
    curves[("seed code", k)] = seed_curve(k)
    for v in variants:
        curves[(v, k)] = fer_curve(v, k)

def options(v):
    p = os.path.join(out, v, "options.txt")
    return open(p).read().strip() if os.path.exists(p) else ""

lines = [f"# CK+ seed-protocol parity: the seed's own code and fer, same folds, same machine", "",
         f"Host: {host}. {version}. Test accuracy of the fold's 99 test frames (ten-crop) after every",
         "epoch; best = the seed protocol's number (the best epoch on the test fold), last = after the",
         "last epoch, settled = mean of the last 10 epochs.", "",
         "| program | fold | epochs | best (epoch) | last | settled (last 10) |", "|---|---|---|---|---|---|"]
rows = []
for (who, k), (acc, done) in sorted(curves.items(), key=lambda kv: (kv[0][1], kv[0][0] != "seed code", kv[0][0])):
    if not acc:
        continue
    best = max(acc)
    be = acc.index(best) + 1
    tail = acc[-10:]
    label = who if who == "seed code" else f"fer `{who}`" + (f" ({options(who)})" if options(who) else "")
    lines.append(f"| {label} | {k} | {len(acc)}{'' if done else ' (running)'} | {100*best:.2f} ({be}) | "
                 f"{100*acc[-1]:.2f} | {100*sum(tail)/len(tail):.2f} |")
    for e, a in enumerate(acc, 1):
        rows.append((who, k, e, a))
open(os.path.join(out, "parity.md"), "w").write("\n".join(lines) + "\n")
with open(os.path.join(out, "parity.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["program", "fold", "epoch", "test_acc"])
    w.writerows(rows)
print("\n".join(lines))

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("parity.png not drawn: /usr/bin/python3 has no matplotlib (apt-get install python3-matplotlib)")
    sys.exit(0)
if not folds:
    sys.exit(0)
fig, axes = plt.subplots(1, len(folds), figsize=(6 * len(folds), 4.2), squeeze=False)
for ax, k in zip(axes[0], folds):
    for (who, kk), (acc, done) in sorted(curves.items()):
        if kk != k or not acc:
            continue
        style = dict(color="black", lw=2) if who == "seed code" else dict(lw=1.5)
        ax.plot(range(1, len(acc) + 1), [100 * a for a in acc], label=who if who == "seed code" else f"fer: {who}",
                **style)
    ax.set_title(f"CK+ fold {k}: test accuracy after each epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
fig.suptitle(f"seed code vs fer, seed protocol ({host})", fontsize=9)
fig.tight_layout()
tmp = os.path.join(out, "parity.png.partial.png")
fig.savefig(tmp, dpi=100)
os.replace(tmp, os.path.join(out, "parity.png"))
PYEOF
}

for k in $FOLDS; do
  if [[ " $RUN " == *" seed "* ]]; then
    run_seed "$k"; rc=$?
    if stopped $rc; then echo "stopped: run the same command to continue"; report; exit 130; fi
    [ $rc -eq 0 ] || { echo "error: the seed code failed on fold $k (see $OUT/seed/fold_$k/output.partial)" >&2; exit 1; }
  fi
  if [[ " $RUN " == *" fer "* ]]; then
    run_fer "$k" "$@"; rc=$?
    if stopped $rc; then echo "stopped: run the same command to continue"; report; exit 130; fi
    [ $rc -eq 0 ] || { echo "error: fer failed on fold $k (see $OUT/$VARIANT/fold_$k/train.log)" >&2; exit 1; }
  fi
  report >/dev/null
done
report
