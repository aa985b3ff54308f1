#!/usr/bin/env bash
# The long FER2013 reference run: one config (default configs/fer2013_resnet18.json: the seed's
# ResNet-18 recipe, 250 epochs) trained on FER2013 Training with the checkpoint chosen on
# PublicTest, at idle priority, resumable, and a summary of where it stands.
#
# Usage: scripts/fer2013_reference.sh [OUT] [fer train options...]
#   OUT defaults to runs/fer2013_reference; further options go to fer train (--set ..., --device cuda).
#   CONFIG=... another config, FER=path/to/fer another binary.
# Re-running the same command continues from OUT/last.pt (a finished run is not redone);
# Ctrl-C or SIGTERM stops it after the current batch and keeps the last finished epoch.
# Writes OUT/reference.md after every run of the script: epochs done, best PublicTest accuracy
# and its epoch, the last epoch's, training time (the sum of the epoch times, so it stays right
# across interruptions), the host and the binary. PrivateTest is not in ../shared: score the run
# where it is with `fer eval --run OUT --data configs/fer2013_privatetest.json --split all`.
set -uo pipefail
OUT=${1:-runs/fer2013_reference}
[ $# -gt 0 ] && shift
FER=${FER:-build/fer}
CONFIG=${CONFIG:-configs/fer2013_resnet18.json}
[ -x "$FER" ] || { echo "error: $FER: no fer binary (scripts/build.sh, or set FER=...)" >&2; exit 2; }
[ -f "$CONFIG" ] || { echo "error: $CONFIG: no such config" >&2; exit 2; }

summarise() {
  /usr/bin/python3 - "$OUT" "$CONFIG" <<'PYEOF'
import csv, json, os, sys
out, config = sys.argv[1:3]
hist = os.path.join(out, "history.csv")
if not os.path.exists(hist):
    sys.exit(0)
rows = list(csv.DictReader(open(hist)))
if not rows:
    sys.exit(0)
run = json.load(open(os.path.join(out, "run.json")))
cfg = json.load(open(os.path.join(out, "config.json")))
acc = [float(r["val_acc"]) for r in rows]
best = max(acc)
secs = sum(float(r["seconds"]) for r in rows)
done = os.path.exists(os.path.join(out, "last.pt")) and len(rows) >= cfg["train"]["epochs"]
lines = [f"# FER2013 reference: `{config}`", "",
         f"| epochs | best PublicTest accuracy (epoch) | last epoch | training time | host | binary |",
         "|---|---|---|---|---|---|",
         f"| {len(rows)} of {cfg['train']['epochs']}{'' if done else ' (running)'} | {100*best:.2f} ({acc.index(best)+1}) | "
         f"{100*acc[-1]:.2f} | {secs/3600:.1f} h | {run.get('host', '?')}, {run.get('threads', '?')} threads, "
         f"device {run.get('device', '?')} | {run.get('fer_version', '?')} ({run.get('git_commit', '?')}) |", "",
         "The checkpoint is chosen on PublicTest; PrivateTest is held out and scored with "
         "`fer eval --run DIR --data configs/fer2013_privatetest.json --split all`."]
open(os.path.join(out, "reference.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PYEOF
}

resume=()
[ -f "$OUT/last.pt" ] && resume=(--resume)
nice -n 19 "$FER" train --config "$CONFIG" --out "$OUT" "${resume[@]}" --no-progress "$@"
rc=$?
summarise
exit $rc
