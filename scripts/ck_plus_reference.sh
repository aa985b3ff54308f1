#!/usr/bin/env bash
# The CK+ 10-fold reference of the README: ResNet-18 with configs/ck_plus_resnet18.json under the
# clean protocol (each fold's checkpoint chosen on a validation part carved from its training
# folds) and under the seed's protocol (chosen on the test fold: data.split.select_on_test), side
# by side with the published numbers, with the wall time and the hardware.
#
# Usage: scripts/ck_plus_reference.sh [OUT] [fer kfold options...]
#   OUT defaults to runs/ck_plus_reference; further options go to both `fer kfold` calls
#   (--jobs 2, --device cuda, --fold 3, --set train.epochs=5 for a smoke run, ...).
#   Writes OUT/clean/, OUT/seed_protocol/ (ordinary k-fold directories, resumable: re-run the same
#   command after an interruption) and OUT/reference.md.
# FER=path/to/fer selects the binary (default build/fer); CONFIG=... another config.
set -uo pipefail
OUT=${1:-runs/ck_plus_reference}
[ $# -gt 0 ] && shift
FER=${FER:-build/fer}
CONFIG=${CONFIG:-configs/ck_plus_resnet18.json}
[ -x "$FER" ] || { echo "error: $FER: no fer binary (build it with scripts/build.sh, or set FER=...)" >&2; exit 2; }
mkdir -p "$OUT"

status=0
t0=$(date +%s)
"$FER" kfold --config "$CONFIG" --folds 10 --out "$OUT/clean" "$@" || status=1
t1=$(date +%s)
"$FER" kfold --config "$CONFIG" --folds 10 --out "$OUT/seed_protocol" --set data.split.select_on_test=true "$@" || status=1
t2=$(date +%s)
# The reports over the folds done so far (fer kfold writes one only when all 10 are done).
for d in clean seed_protocol; do
  [ -d "$OUT/$d" ] && "$FER" kfold report "$OUT/$d" >/dev/null 2>&1
done

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
python3 - "$OUT" "$((t1 - t0))" "$((t2 - t1))" "$(nproc) cores, ${cpu:-unknown CPU}" "$("$FER" --version)" "$CONFIG" "$*" <<'PYEOF'
import json, os, sys
out, t_clean, t_seed, hw, version, config, extra = sys.argv[1:8]
def hms(s):
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
rows = []
for name, sub, secs in (("clean: chosen on validation", "clean", t_clean),
                        ("seed protocol: chosen on the TEST fold (biased)", "seed_protocol", t_seed)):
    p = os.path.join(out, sub, "kfold_report.json")
    if not os.path.exists(p):
        rows.append(f"| {name} | no fold done | | | | |")
        continue
    r = json.load(open(p))
    done = f"{len(r['folds_done'])}/{r['folds']}"
    rows.append(f"| {name} | {100 * r['accuracy']['mean']:.2f} ± {100 * r['accuracy']['std']:.2f} | "
                f"{100 * r['pooled']['accuracy']:.2f} | {r['macro_f1']['mean']:.4f} | {done} | {hms(secs)} |")
text = f"""# CK+ 10-fold reference

`{config}`{(' with ' + extra) if extra else ''}; {version}; {hw}.

| protocol | accuracy % (mean ± std over folds) | pooled accuracy % | macro F1 | folds | wall time |
|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
| published ResNet-18 (seed code, chosen on the test fold) | 94.04 | | | 10 | |
| published VGG19 (seed code, chosen on the test fold) | 94.65 | | | 10 | |
"""
open(os.path.join(out, "reference.md"), "w").write(text)
print(text)
PYEOF
exit $status
