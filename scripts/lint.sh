#!/usr/bin/env bash
# Static analysis: clang-tidy (checks in .clang-tidy) and cppcheck on fer's C++ sources.
#
# Usage: scripts/lint.sh [--all | BASE]
#   (default)  the files changed since BASE: $FER_LINT_BASE if set, else the upstream branch when
#              HEAD is ahead of it, else the last commit (HEAD~1); uncommitted changes too. A changed
#              header brings in every source that includes it. CI (.ci/run) runs this.
#   --all      every source of the library, the CLI, the tests and examples/ (about 20 minutes of
#              clang-tidy on 2 cores; the tree is kept clean under it).
# Exits 1 listing every finding (each once, as file:line: message [check]), 0 when clean.
# The compile commands come from a configure-only build folder, build-lint/ (no precompiled
# header: clang cannot read GCC's). Debian's LibTorch unless FER_LIBTORCH=pip.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-tidy >/dev/null && command -v cppcheck >/dev/null ||
  { echo "lint: needs clang-tidy and cppcheck (scripts/install_deps.sh installs them)" >&2; exit 2; }

mode=${1:-changed}
all_sources() {
  git ls-files --cached --others --exclude-standard 'src/*.cpp' 'apps/*.cpp' 'examples/*.cpp' 'tests/*.cpp' |
    grep -v -e '^tests/layers/' -e '^tests/cuda/' | sort -u
}
if [ "$mode" = "--all" ]; then
  files=$(all_sources)
else
  if [ "$mode" != changed ]; then
    base=$mode
  elif [ -n "${FER_LINT_BASE:-}" ]; then
    base=$FER_LINT_BASE
  elif up=$(git rev-parse -q --verify '@{upstream}' 2>/dev/null) && [ "$(git rev-list --count "$up..HEAD")" -gt 0 ]; then
    base=$up
  else
    base=$(git rev-parse -q --verify HEAD~1 || git hash-object -t tree /dev/null)
  fi
  git rev-parse -q --verify "$base^{commit}" >/dev/null || git rev-parse -q --verify "$base^{tree}" >/dev/null ||
    { echo "lint: $base: not a commit" >&2; exit 2; }
  changed=$( (git diff --name-only "$base" -- ; git ls-files --others --exclude-standard) | sort -u)
  srcs=$(all_sources)
  files=$(
    for f in $changed; do
      case "$f" in
        *.cpp) if grep -qx "$f" <<<"$srcs"; then echo "$f"; fi ;;
        *.hpp)  # the sources that include it, by its include path or its file name
          name=${f#include/}
          grep -l -F -e "\"$name\"" -e "\"$(basename "$f")\"" $srcs 2>/dev/null || true ;;
      esac
    done | sort -u || true)
  echo "lint: $(wc -w <<<"$files") source(s) changed since $(git rev-parse --short "$base" 2>/dev/null || echo "$base")"
fi
[ -n "$files" ] || { echo "lint: nothing to check"; exit 0; }

# Compile commands (configure only: seconds).
if [ "${FER_LIBTORCH:-debian}" = pip ]; then
  extra=(-DCMAKE_PREFIX_PATH="$(scripts/install_libtorch.sh)")
else
  extra=()
fi
cmake -S . -B build-lint -G Ninja -DFER_ENABLE_PCH=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "${extra[@]}" >build-lint.log 2>&1 ||
  { cat build-lint.log >&2; exit 1; }
rm -f build-lint.log

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
jobs=$(nproc)
t=$SECONDS
# clang-tidy, one file per process, all cores.
printf '%s\n' $files | xargs -P "$jobs" -I{} sh -c \
  'clang-tidy --quiet -p build-lint "$1" >"$2/$(echo "$1" | tr / _).tidy" 2>&1; true' _ {} "$out"
cat "$out"/*.tidy | grep -E '^/.*: (warning|error): ' | sed "s|^$PWD/||" | sort -u >"$out/tidy.txt" || true
echo "lint: clang-tidy on $(wc -w <<<"$files") file(s) in $((SECONDS - t)) s"
# cppcheck: fer's own headers only (system headers would take it minutes and say nothing); its
# GoogleTest and OpenCV knowledge. useInitializationList is off: torch modules must be created in the
# constructor's body, where register_module runs.
t=$SECONDS
cppcheck --quiet --std=c++17 --language=c++ -j "$jobs" --inline-suppr --enable=warning,performance,portability \
  --library=googletest --library=opencv2 --suppress=useInitializationList \
  --suppress=missingIncludeSystem --suppress=missingInclude -I include -I src \
  --template='{file}:{line}: {severity}: {message} [cppcheck-{id}]' $files 2>"$out/cppcheck.txt" || true
echo "lint: cppcheck in $((SECONDS - t)) s"

n=$(($(wc -l <"$out/tidy.txt") + $(grep -c . "$out/cppcheck.txt" || true)))
if [ "$n" -gt 0 ]; then
  cat "$out/tidy.txt" "$out/cppcheck.txt"
  echo "lint: $n finding(s)" >&2
  exit 1
fi
echo "lint: clean"
