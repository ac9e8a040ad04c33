#!/usr/bin/env bash
# Benchmark: full `episodic build` vs `hugo` on the same generated content.
# Usage (from the repo root): bash benches/build.sh
# Env: EPISODES (10000), RUNS (5), BENCH_DIR (default: temp dir, removed at exit),
#      HUGO_ONLY=1 (skip episodic: baseline Hugo figures only),
#      EPISODIC_BIN (use this binary instead of `cargo build --release`).
set -euo pipefail

EPISODES=${EPISODES:-10000}
RUNS=${RUNS:-5}
HUGO_ONLY=${HUGO_ONLY:-0}
NOW=2200-01-01T00:00:00Z

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SCRIPT=build.sh
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

# --- tools -------------------------------------------------------------------
need=()
command -v hugo >/dev/null 2>&1 || need+=(hugo)
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
[[ -x /usr/bin/time ]] || need+=(time)
command -v python3 >/dev/null 2>&1 || need+=(python3)
install_packages "${need[@]}"
command -v hugo >/dev/null 2>&1 || die "hugo still missing"
command -v hyperfine >/dev/null 2>&1 || die "hyperfine still missing"
[[ -x /usr/bin/time ]] || die "/usr/bin/time still missing"

# --- content -----------------------------------------------------------------
if [[ -n ${BENCH_DIR:-} ]]; then
  D=$BENCH_DIR
  mkdir -p "$D"
  D=$(cd "$D" && pwd)
else
  D=$(mktemp -d "${TMPDIR:-/tmp}/episodic-bench.XXXXXX")
  trap 'rm -rf "$D"' EXIT
fi
log "bench dir: $D ($EPISODES episodes, $RUNS runs)"

python3 "$ROOT/benches/gen_content.py" --episodes "$EPISODES" --out "$D" --clean
n_ep=$(find "$D/episodic/bench" -name '*.md' | wc -l)
n_hugo=$(find "$D/hugo/content/bench" -name '[0-9]*.md' | wc -l)
[[ $n_ep -eq $EPISODES && $n_hugo -eq $EPISODES ]] ||
  die "generator wrote $n_ep episodic / $n_hugo hugo episodes, expected $EPISODES"

# --- episodic binary ---------------------------------------------------------
if [[ $HUGO_ONLY != 1 ]]; then
  if [[ -n ${EPISODIC_BIN:-} ]]; then
    BIN=$EPISODIC_BIN
  else
    log "cargo build --release"
    cargo build --release
    BIN=$ROOT/target/release/episodic
  fi
  [[ -x $BIN ]] || die "episodic binary not found at $BIN"
fi

q() { printf '%q' "$1"; }
OUT_EP=$D/out-episodic
OUT_HUGO=$D/out-hugo
HUGO_CMD="hugo --quiet --source $(q "$D/hugo") --destination $(q "$OUT_HUGO")"
if [[ $HUGO_ONLY != 1 ]]; then
  EP_CMD="$(q "$BIN") build --content $(q "$D/episodic") --out $(q "$OUT_EP") --now $NOW"
fi
# Each timed run is a full build from scratch: no previous output, no Hugo
# resource cache in the source dir. The previous output is moved aside, not
# deleted: ext4 skips inodes freed in the last minutes when it allocates
# new ones, and deleting 21,000 files just before a run would time that
# for both tools. All of it is deleted at exit.
TRASH=$D/trash
mkdir -p "$TRASH"
PREPARE="for o in $(q "$OUT_EP") $(q "$OUT_HUGO") $(q "$D/hugo/resources"); do [ -e \"\$o\" ] && mv \"\$o\" $(q "$TRASH")/\$(date +%s%N); done; rm -f $(q "$D/hugo/.hugo_build.lock")"

log "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GB RAM", $2/1048576}' /proc/meminfo)"
log "$(hugo version)"
log "$(hyperfine --version)"

# --- wall time ---------------------------------------------------------------
JSON=$D/hyperfine.json
cmds=()
[[ $HUGO_ONLY == 1 ]] || cmds+=(-n episodic "$EP_CMD")
cmds+=(-n hugo "$HUGO_CMD")
hyperfine --warmup 1 --runs "$RUNS" --prepare "$PREPARE" \
  --export-json "$JSON" "${cmds[@]}"

stat_of() {  # stat_of <command-name> <median|user|system>  -> seconds
  # hyperfine keeps each run's wall time (median over them) and the mean
  # user and system CPU time.
  python3 - "$JSON" "$1" "$2" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for r in data["results"]:
    if r.get("command") == sys.argv[2]:
        print(f'{r[sys.argv[3]]:.4f}')
        break
else:
    sys.exit(f"no result named {sys.argv[2]} in {sys.argv[1]}")
PY
}
median() { stat_of "$1" median; }

# --- peak memory -------------------------------------------------------------
peak_mb() {  # peak_mb <name> <command>  -> MB (MiB) of max RSS
  local name=$1 cmd=$2 tv=$D/time-$1.txt
  bash -c "$PREPARE"
  /usr/bin/time -v -o "$tv" bash -c "exec $cmd" >&2 ||
    die "$name failed under /usr/bin/time (see $tv)"
  awk -F': *' '/Maximum resident set size/ {printf "%.1f\n", $2/1024}' "$tv"
}

count_files() { find "$1" -type f | wc -l; }

H_MED=$(median hugo)
H_MB=$(peak_mb hugo "$HUGO_CMD")
H_FILES=$(count_files "$OUT_HUGO")
H_PAGES=$(find "$OUT_HUGO/bench" -mindepth 2 -name index.html | wc -l)
log "hugo output: $H_FILES files, $H_PAGES episode pages, $(du -sh "$OUT_HUGO" | cut -f1)"
[[ $H_PAGES -eq $EPISODES ]] || die "hugo rendered $H_PAGES episode pages, expected $EPISODES"

if [[ $HUGO_ONLY == 1 ]]; then
  printf '\nhugo: median %.2f s, peak %.0f MB (%d episodes, %d files)\n' \
    "$H_MED" "$H_MB" "$EPISODES" "$H_FILES"
  exit 0
fi

E_MED=$(median episodic)
E_MB=$(peak_mb episodic "$EP_CMD")
E_FILES=$(count_files "$OUT_EP")
log "episodic output: $E_FILES files, $(du -sh "$OUT_EP" | cut -f1)"
[[ $E_FILES -gt 0 ]] || die "episodic produced no files in $OUT_EP"

python3 - "$E_MED" "$E_MB" "$H_MED" "$H_MB" "$EPISODES" \
  "$(stat_of episodic user)" "$(stat_of episodic system)" "$(stat_of hugo user)" "$(stat_of hugo system)" <<'PY'
import sys
e_med, e_mb, h_med, h_mb = (float(x) for x in sys.argv[1:5])
n = int(sys.argv[5])
e_user, e_sys, h_user, h_sys = (float(x) for x in sys.argv[6:10])
speed = h_med / e_med if e_med > 0 else float("inf")
mem = h_mb / e_mb if e_mb > 0 else float("inf")
print()
print(f"{n} episodes")
print(f"{'':10}{'median wall':>14}{'mean user':>12}{'mean sys':>12}{'peak RSS':>12}")
print(f"{'episodic':10}{e_med:>12.2f} s{e_user:>10.2f} s{e_sys:>10.2f} s{e_mb:>9.0f} MB")
print(f"{'hugo':10}{h_med:>12.2f} s{h_user:>10.2f} s{h_sys:>10.2f} s{h_mb:>9.0f} MB")
print()
print(f"episodic: median {e_med:.2f} s, peak {e_mb:.0f} MB | "
      f"hugo: median {h_med:.2f} s, peak {h_mb:.0f} MB | "
      f"speed {speed:.1f}x, memory 1/{mem:.0f}")
ok_s, ok_m = speed >= 10, mem >= 10
print(f"goal (>=10x faster, <=1/10 memory): speed {'PASS' if ok_s else 'FAIL'}, "
      f"memory {'PASS' if ok_m else 'FAIL'}")
PY
