#!/usr/bin/env bash
# Transfer FER2013 -> CK+: train a FER2013 model (or take a finished run), then run the 10 CK+
# folds starting from its weights, under the clean protocol (each fold's checkpoint chosen on a
# validation part of its training folds) and the seed's (chosen on the test fold), with
# scripts/ck_plus_reference.sh. The FER2013 weights never saw CK+.
#
# Usage: scripts/ck_plus_transfer.sh [OUT] [fer kfold options...]
#   OUT defaults to runs/ck_plus_transfer. Writes OUT/fer2013/ (the source run, unless SOURCE is
#   given), OUT/ck_plus/{clean,seed_protocol}/ and OUT/ck_plus/reference.md.
#   SOURCE=DIR            a finished FER2013 run to start from (skips training one)
#   SOURCE_CONFIG=...     the FER2013 config trained otherwise (default configs/fer2013_budget15.json)
#   CONFIG=...            the CK+ config (default configs/ck_plus_from_fer2013.json; its model
#                         must match the source's: resnet18, width 16, 1 channel)
#   FOLDS="1 2"           only those CK+ folds (default 1..10); FER=path/to/fer (default build/fer)
# Resumable: the source run continues from its last.pt until `fer train` has finished it (then
# OUT/fer2013.done is written); finished CK+ folds are not redone. Ctrl-C stops it; the same
# command continues.
set -uo pipefail
OUT=${1:-runs/ck_plus_transfer}
[ $# -gt 0 ] && shift
FER=${FER:-build/fer}
SOURCE_CONFIG=${SOURCE_CONFIG:-configs/fer2013_budget15.json}
export CONFIG=${CONFIG:-configs/ck_plus_from_fer2013.json}
export FER
[ -x "$FER" ] || { echo "error: $FER: no fer binary (scripts/build.sh, or set FER=...)" >&2; exit 2; }
mkdir -p "$OUT"
stop=
trap 'stop=INT' INT
trap 'stop=TERM' TERM

if [ -n "${SOURCE:-}" ]; then
  [ -f "$SOURCE/best.pt" ] || { echo "error: SOURCE=$SOURCE: no best.pt there (a finished fer train run)" >&2; exit 2; }
  src=$SOURCE
else
  src=$OUT/fer2013
  if [ ! -f "$OUT/fer2013.done" ]; then
    resume=()
    [ -f "$src/last.pt" ] && resume=(--resume)
    echo "source: $SOURCE_CONFIG -> $src"
    "$FER" train --config "$SOURCE_CONFIG" --out "$src" "${resume[@]}" --no-progress
    rc=$?
    if [ $rc -ne 0 ] || [ -n "$stop" ]; then
      echo "source run stopped (exit $rc); run the same command to continue" >&2
      exit $(( rc ? rc : 130 ))
    fi
    date -u +%FT%TZ >"$OUT/fer2013.done"
  fi
fi
echo "CK+ from $src/best.pt ($CONFIG)"
exec "$(dirname "$0")/ck_plus_reference.sh" "$OUT/ck_plus" --set model.pretrained="$(realpath "$src")" "$@"
