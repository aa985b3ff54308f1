#!/usr/bin/env bash
# Visible vs infrared vs fusion on one paired dataset, on one split, in one table.
#
#   scripts/modality_study.sh PREFIX [--out DIR] [--variants "v1 v2 ..."] [--seeds "s1 s2 ..."]
#                             [--set key=value ...]
#
# PREFIX names three configs: PREFIX_visible.json, PREFIX_infrared.json and PREFIX_fused.json
# (e.g. configs/viri -> configs/viri_visible.json ...). Every variant below is trained with
# `fer train` into DIR/<variant>/ (default DIR: runs/<basename of PREFIX>_study), with the
# --set overrides applied to all of them (e.g. --set data.path=/data/VIRI). All variants read
# the same pairs with the same seed, so they share one train/val/test split (fer eval checks
# the test ids). Each checkpoint is chosen on validation; the test split is then evaluated once
# per model and the comparison is printed and written to DIR/comparison.{md,csv,json}.
# Re-running resumes unfinished runs and skips finished ones.
# With --seeds, the whole study runs once per seed (split, initialisation and shuffle all change)
# into DIR/seed_<s>/, and DIR/summary.{md,csv} give each variant's mean ± sample std over the seeds
# (one seed's number on a small test split is noise; report the spread).
#
# Variants (default: all of them, in this order):
#   visible          PREFIX_visible.json (single stream on the visible images)
#   infrared         PREFIX_infrared.json (single stream on the infrared images)
#   feature          PREFIX_fused.json as written (the paper's: interleaved features, fused head)
#   feature_concat   PREFIX_fused.json with model.fusion_features=concat
#   early            PREFIX_fused.json with model.name=fusion_early (channels stacked at the input)
#   late             PREFIX_fused.json with model.name=fusion_late (mean of the two heads' logits)
#   late_learned     PREFIX_fused.json with fusion_late and model.late_combine=learned
#   feature_init     "feature" with both streams initialised from the visible and infrared runs
#                    of this study (model.init_streams; needs those two variants first)
set -euo pipefail

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

[ $# -ge 1 ] || usage
case "$1" in -h|--help) usage 0 ;; esac
PREFIX=$1
shift
OUT=""
VARIANTS="visible infrared feature feature_concat early late late_learned feature_init"
SEEDS=""
SETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --set) SETS+=(--set "$2"); shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "modality_study.sh: unknown argument '$1'" >&2; usage ;;
  esac
done

FER=${FER:-$(dirname "$0")/../${FER_BUILD_DIR:-build}/fer}
[ -x "$FER" ] || { echo "modality_study.sh: no fer binary at $FER (build first, or set FER=path)" >&2; exit 2; }
for m in visible infrared fused; do
  [ -f "${PREFIX}_$m.json" ] || { echo "modality_study.sh: ${PREFIX}_$m.json not found" >&2; exit 2; }
done
OUT=${OUT:-runs/$(basename "$PREFIX")_study}
mkdir -p "$OUT"

if [ -n "$SEEDS" ]; then
  for seed in $SEEDS; do
    case "$seed" in ''|*[!0-9]*) echo "modality_study.sh: --seeds takes whole numbers, got '$seed'" >&2; exit 2 ;; esac
  done
  tables=()
  for seed in $SEEDS; do
    echo "==== seed $seed"
    FER="$FER" bash "$0" "$PREFIX" --out "$OUT/seed_$seed" --variants "$VARIANTS" ${SETS[@]+"${SETS[@]}"} --set "seed=$seed"
    tables+=("$OUT/seed_$seed/comparison.csv")
  done
  python3 - "$OUT" "$SEEDS" "${tables[@]}" <<'PYEOF'
import csv, statistics, sys
out, seeds, paths = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
order, model, values = [], {}, {}
for path in paths:
    for r in csv.DictReader(open(path)):
        if r["run"] not in model:
            order.append(r["run"])
            model[r["run"]] = r["model"]
        for key in ("accuracy", "macro_f1"):
            values.setdefault((r["run"], key), []).append(float(r[key]))
def cell(v):
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    return f"{statistics.mean(v):.3f} ± {sd:.3f}"
head = f"| run | model | test accuracy | macro F1 | per seed ({', '.join(seeds)}) |"
lines = [f"Mean ± sample std over {len(paths)} seeds ({', '.join(seeds)}); each seed is one study "
         "(its own split, initialisation and shuffle).", "", head, "|---|---|---:|---:|---|"]
with open(out + "/summary.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["run", "model", "seeds", "accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std",
                "accuracy_per_seed"])
    for run in order:
        a, m = values[(run, "accuracy")], values[(run, "macro_f1")]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
        w.writerow([run, model[run], len(a), f"{statistics.mean(a):.4f}", f"{sd(a):.4f}",
                    f"{statistics.mean(m):.4f}", f"{sd(m):.4f}", " ".join(f"{x:.4f}" for x in a)])
        lines.append(f"| {run} | {model[run]} | {cell(a)} | {cell(m)} | {' '.join(f'{x:.3f}' for x in a)} |")
open(out + "/summary.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
print(f"-> {out}/summary.md, {out}/summary.csv")
PYEOF
  exit 0
fi

RUNS=()
for v in $VARIANTS; do
  extra=()
  case "$v" in
    visible) cfg=${PREFIX}_visible.json ;;
    infrared) cfg=${PREFIX}_infrared.json ;;
    feature) cfg=${PREFIX}_fused.json ;;
    feature_concat) cfg=${PREFIX}_fused.json; extra=(--set model.fusion_features=concat) ;;
    early) cfg=${PREFIX}_fused.json; extra=(--set model.name=fusion_early) ;;
    late) cfg=${PREFIX}_fused.json; extra=(--set model.name=fusion_late) ;;
    late_learned) cfg=${PREFIX}_fused.json; extra=(--set model.name=fusion_late --set model.late_combine=learned) ;;
    feature_init)
      cfg=${PREFIX}_fused.json
      for need in visible infrared; do
        [ -f "$OUT/$need/best.pt" ] || { echo "modality_study.sh: feature_init needs the $need run ($OUT/$need/best.pt); list $need before it in --variants" >&2; exit 2; }
      done
      extra=(--set "model.init_streams=[\"$OUT/visible\", \"$OUT/infrared\"]") ;;
    *) echo "modality_study.sh: unknown variant '$v'" >&2; usage ;;
  esac
  resume=()
  [ -f "$OUT/$v/last.pt" ] && resume=(--resume)
  echo "== $v: $cfg ${extra[*]} ${SETS[*]} ${resume[*]}"
  "$FER" train --config "$cfg" ${SETS[@]+"${SETS[@]}"} ${extra[@]+"${extra[@]}"} --set "name=$(basename "$PREFIX")_$v" \
    --out "$OUT/$v" --no-progress ${resume[@]+"${resume[@]}"}
  RUNS+=(--run "$OUT/$v")
done

echo "== test split, once per model"
"$FER" eval "${RUNS[@]}" --split test --table "$OUT/comparison.md" --table "$OUT/comparison.csv" \
  --table "$OUT/comparison.json"
