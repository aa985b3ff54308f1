#!/usr/bin/env bash
# The CK+ 10-fold reference of the README: ResNet-18 with configs/ck_plus_resnet18.json under the
# clean protocol (each fold's checkpoint chosen on a validation part carved from its training
# folds) and under the seed's protocol (chosen on the test fold: data.split.select_on_test), side
# by side with the published numbers, with the time and the hardware it took.
#
# Usage: scripts/ck_plus_reference.sh [OUT] [fer kfold options...]
#   OUT defaults to runs/ck_plus_reference; further options go to every `fer kfold` call
#   (--device cuda, --set train.epochs=5 for a smoke run, ...).
#   FOLDS="1 2" runs only those folds (default: 1 to 10). The folds run one at a time, each under
#   the clean protocol and then under the seed's, so a partial reference compares the protocols
#   on the same folds.
#   Writes OUT/clean/ and OUT/seed_protocol/ (ordinary k-fold directories: re-run the same command
#   after an interruption and it resumes, finished folds are not redone) and OUT/reference.md,
#   which is rewritten after every fold. The time is the sum of the folds' epoch times read from
#   their history.csv, so it stays right across interruptions and resumptions.
#   Ctrl-C (or SIGTERM) stops it: the running fold keeps its last finished epoch, nothing further
#   starts, and the same command continues from there.
# FER=path/to/fer selects the binary (default build/fer); CONFIG=... another config.
set -uo pipefail
OUT=${1:-runs/ck_plus_reference}
[ $# -gt 0 ] && shift
FER=${FER:-build/fer}
CONFIG=${CONFIG:-configs/ck_plus_resnet18.json}
FOLDS=${FOLDS:-1 2 3 4 5 6 7 8 9 10}
[ -x "$FER" ] || { echo "error: $FER: no fer binary (build it with scripts/build.sh, or set FER=...)" >&2; exit 2; }
for a in "$@"; do
  case "$a" in
    --fold|--fold=*) echo "error: pick folds with FOLDS=\"1 2\", not --fold" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
# The signal that stopped the run. fer ends by the signal it got once it has kept its files, so
# bash runs these traps; the exit statuses 130/143 below stop the loop too when the traps cannot
# fire (a script started by `nohup ... &` from another script begins with SIGINT ignored).
stop=
trap 'stop=INT' INT
trap 'stop=TERM' TERM

summarise() {
  for d in clean seed_protocol; do
    [ -d "$OUT/$d" ] && "$FER" kfold report "$OUT/$d" >/dev/null 2>&1
  done
  local cpu
  cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
  python3 - "$OUT" "$(nproc) cores, ${cpu:-unknown CPU}" "$("$FER" --version)" "$CONFIG" "$*" <<'PYEOF'
import csv, json, os, sys
out, hw, version, config, extra = sys.argv[1:6]

def hms(s):
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m"

def fold_info(sub, k):
    d = os.path.join(out, sub, f"fold_{k}")
    ev = os.path.join(d, "eval_test.json")
    if not os.path.exists(ev):
        return None
    acc = json.load(open(ev))["accuracy"]
    with open(os.path.join(d, "history.csv")) as f:
        epoch_secs = [float(row["seconds"]) for row in csv.DictReader(f)]
    record = json.load(open(os.path.join(d, "run.json")))
    # run.json's host (CPU, cores, LibTorch kernels) since fer records it; this machine's otherwise
    return acc, sum(epoch_secs), epoch_secs, record.get("device", "?"), record.get("host", hw)

def last_epoch(k):
    """Test accuracy and size of the seed-protocol fold k at its last epoch (val = test there)."""
    d = os.path.join(out, "seed_protocol", f"fold_{k}")
    if not os.path.exists(os.path.join(d, "eval_test.json")):
        return None
    with open(os.path.join(d, "history.csv")) as f:
        rows = list(csv.DictReader(f))
    n = len(json.load(open(os.path.join(d, "split.json")))["test"])
    return float(rows[-1]["val_acc"]), n, int(rows[-1]["epoch"])

protocols = (("clean: chosen on validation", "clean"),
             ("seed protocol: chosen on the TEST fold (biased)", "seed_protocol"))
rows, per_fold, devices, hosts = [], {}, set(), []
for name, sub in protocols:
    p = os.path.join(out, sub, "kfold_report.json")
    infos = {k: fold_info(sub, k) for k in range(1, 11)}
    per_fold[sub] = infos
    done = {k: v for k, v in infos.items() if v}
    devices |= {v[3] for v in done.values()}
    for v in done.values():  # each kind of host once (a comprehension would test the old list only)
        if v[4] not in hosts:
            hosts.append(v[4])
    secs = sum(v[1] for v in done.values())
    epoch_secs = sorted(x for v in done.values() for x in v[2])
    median = f"{epoch_secs[len(epoch_secs) // 2]:.1f} s" if epoch_secs else ""
    if not done or not os.path.exists(p):
        rows.append(f"| {name} | no fold done | | | 0/10 | | |")
        continue
    r = json.load(open(p))
    rows.append(f"| {name} | {100 * r['accuracy']['mean']:.2f} ± {100 * r['accuracy']['std']:.2f} | "
                f"{100 * r['pooled']['accuracy']:.2f} | {r['macro_f1']['mean']:.4f} | "
                f"{len(r['folds_done'])}/{r['folds']} | {hms(secs)} | {median} |")
# No selection at all: the seed-protocol runs' test accuracy after their last epoch. Those runs
# train on all nine other folds and evaluate the test fold after every epoch; reading only the
# last epoch is the same as evaluating once after a fixed number of epochs.
last = {k: last_epoch(k) for k in range(1, 11)}
done_last = [v for v in last.values() if v]
if done_last:
    accs = [v[0] for v in done_last]
    mean = sum(accs) / len(accs)
    std = (sum((a - mean) ** 2 for a in accs) / (len(accs) - 1)) ** 0.5 if len(accs) > 1 else 0.0
    pooled = sum(a * n for a, n, _ in done_last) / sum(n for _, n, _ in done_last)
    epochs = sorted({e for _, _, e in done_last})
    rows.insert(1, f"| no selection: the last epoch ({', '.join(map(str, epochs))}) of the seed-protocol runs | "
                   f"{100 * mean:.2f} ± {100 * std:.2f} | {100 * pooled:.2f} | | {len(done_last)}/10 | (same runs) | |")
# Folds run on several kinds of host (a reference run in pieces) say which ran where: epoch times
# are only comparable on one kind, and another instruction set can change the last bits.
label = {h: chr(ord("A") + i) for i, h in enumerate(hosts)}
several = len(hosts) > 1
host_text = "; ".join(f"host {label[h]}: {h}" for h in hosts) if several else (hosts[0] if hosts else hw)
fold_rows = []
for k in range(1, 11):
    c, s = per_fold["clean"][k], per_fold["seed_protocol"][k]
    if not c and not s:
        continue
    cell = lambda v: f"{100 * v[0]:.2f}" if v else "not run"
    where = " | " + "/".join(sorted({label[v[4]] for v in (c, s) if v})) if several else ""
    fold_rows.append(f"| {k} | {cell(c)} | {cell(s)} | {cell(last[k])}{where} |")
text = f"""# CK+ 10-fold reference

`{config}`{(' with ' + extra) if extra else ''}; {version}; {host_text}; device {', '.join(sorted(devices)) or '?'}.
Time: the sum of the folds' epoch times (training and the per-epoch selection pass), from their
history.csv; the median epoch is the figure to scale from when the machine was shared or paused.
"No selection" reads the test accuracy of the seed-protocol runs after their last epoch: training on
all nine other folds for a fixed number of epochs, evaluated once, nothing chosen on any split. The
gap to the seed protocol is what choosing the epoch on the test fold adds.

| protocol | accuracy % (mean ± std over folds) | pooled accuracy % | macro F1 | folds | time | median epoch |
|---|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
| published ResNet-18 (seed code, chosen on the test fold) | 94.04 | | | 10 | | |
| published VGG19 (seed code, chosen on the test fold) | 94.65 | | | 10 | | |

Test accuracy % per fold:

| fold | clean | seed protocol | no selection (last epoch) |{' host |' if several else ''}
|---:|---:|---:|---:|{'---|' if several else ''}
{chr(10).join(fold_rows)}
"""
open(os.path.join(out, "reference.md.tmp"), "w").write(text)
os.replace(os.path.join(out, "reference.md.tmp"), os.path.join(out, "reference.md"))
print(text)
PYEOF
}

status=0
for k in $FOLDS; do
  for proto in clean seed_protocol; do
    [ -n "$stop" ] && break 2
    extra=()
    [ "$proto" = seed_protocol ] && extra=(--set data.split.select_on_test=true)
    "$FER" kfold --config "$CONFIG" --folds 10 --fold "$k" --out "$OUT/$proto" "${extra[@]}" "$@"
    case $? in
      0) ;;
      130) stop=${stop:-INT} ;;
      143) stop=${stop:-TERM} ;;
      *) status=1 ;;
    esac
  done
  summarise "$@" >/dev/null
done
summarise "$@"
if [ -n "$stop" ]; then
  echo "interrupted: run the same command again to continue" >&2
  trap - "$stop"
  kill -s "$stop" $$  # end by the signal too, so whatever called this script stops as well
  exit $((128 + $(kill -l "$stop")))
fi
exit $status
