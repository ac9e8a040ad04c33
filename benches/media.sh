#!/usr/bin/env bash
# Benchmark: media served from disk. `episodic serve` vs nginx (sendfile) on
# the same file, and episodic's memory while many clients download at once.
# Usage (from the repo root): bash benches/media.sh
# Env: DURATION (10s, per wrk run), SIZE_MB (50, the file wrk fetches whole),
#      BIG_MB (100) and CLIENTS (50): the memory run, each client limited to
#      RATE (25M bytes/s) so the downloads overlap; EPISODIC_BIN (skip cargo).
set -euo pipefail

DURATION=${DURATION:-10s}
SIZE_MB=${SIZE_MB:-50}
BIG_MB=${BIG_MB:-100}
CLIENTS=${CLIENTS:-50}
RATE=${RATE:-25M}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SCRIPT=media.sh
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx)
install_packages "${need[@]}"
export PATH=$PATH:/usr/sbin

if [[ -n ${EPISODIC_BIN:-} ]]; then
  BIN=$EPISODIC_BIN
else
  cargo build --release >&2
  BIN=$ROOT/target/release/episodic
fi

D=$(mktemp -d "${TMPDIR:-/tmp}/episodic-media-bench.XXXXXX")
EPID=
NPID=
cleanup() {
  local status=$?
  trap - EXIT
  [[ -n $EPID ]] && kill "$EPID" 2>/dev/null && wait "$EPID" 2>/dev/null
  [[ -n $NPID ]] && kill -QUIT "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null
  rm -rf "$D"
  exit "$status"
}
trap cleanup EXIT

# --- content: one episode linking two audio files ---------------------------
mkdir -p "$D/content/s"
cat >"$D/content/site.toml" <<'EOF'
title = "Media bench"
base_url = "https://example.com/"
description = "benches/media.sh"
language = "en"
timezone = "Asia/Seoul"
EOF
echo 'title = "Serial"' >"$D/content/s/series.toml"
cat >"$D/content/s/01.md" <<'EOF'
+++
title = "One"
date = 2026-10-01T10:00:00
+++
[Listen](clip.mp3), [the long cut](long.mp3).
EOF
head -c "$((SIZE_MB * 1048576))" /dev/urandom >"$D/content/s/clip.mp3"
head -c "$((BIG_MB * 1048576))" /dev/urandom >"$D/content/s/long.mp3"

# --- episodic ---------------------------------------------------------------
"$BIN" serve --listen 127.0.0.1:0 --now 2026-12-01T00:00:00Z \
  --content "$D/content" --out "$D/feeds" >"$D/episodic.out" 2>"$D/episodic.err" &
EPID=$!
for _ in $(seq 1 300); do
  [[ -s $D/episodic.out ]] && break
  kill -0 "$EPID" 2>/dev/null || { cat "$D/episodic.err" >&2; die "episodic exited"; }
  sleep 0.1
done
EURL=$(head -n1 "$D/episodic.out" | sed 's#/*$##')
[[ $EURL == http://127.0.0.1:* ]] || die "episodic printed no address"
# Wait until feeds/ holds the files (served from disk from then on).
for _ in $(seq 1 300); do
  [[ -f $D/feeds/s/clip.mp3 && -f $D/feeds/s/long.mp3 ]] && break
  sleep 0.1
done
sleep 1
log "episodic (pid $EPID) at $EURL"

# --- nginx: sendfile on the same feeds/ -------------------------------------
NPORT=18090
while (echo >"/dev/tcp/127.0.0.1/$NPORT") 2>/dev/null; do NPORT=$((NPORT + 1)); done
mkdir -p "$D/nginx-tmp"
cat >"$D/nginx.conf" <<EOF
daemon off;
user root;
pid $D/nginx.pid;
worker_processes auto;
error_log $D/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=100 inactive=60s;
    client_body_temp_path $D/nginx-tmp/body;
    proxy_temp_path $D/nginx-tmp/proxy;
    fastcgi_temp_path $D/nginx-tmp/fastcgi;
    uwsgi_temp_path $D/nginx-tmp/uwsgi;
    scgi_temp_path $D/nginx-tmp/scgi;
    server { listen 127.0.0.1:$NPORT; root $D/feeds; }
}
EOF
nginx -c "$D/nginx.conf" -p "$D" &
NPID=$!
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$NPORT/s/clip.mp3" -r 0-0 && break
  sleep 0.1
done
NURL=http://127.0.0.1:$NPORT

for url in "$EURL" "$NURL"; do
  [[ $(curl -s -o /dev/null -w '%{http_code} %{size_download}' -r 100-199 "$url/s/clip.mp3") == "206 100" ]] ||
    die "$url does not answer a range with 206"
done

# --- throughput: the whole file, 16 connections -----------------------------
declare -A RPS MBS
for who in episodic nginx; do
  url=$EURL
  [[ $who == nginx ]] && url=$NURL
  wrk -t 2 -c 16 -d 2s "$url/s/clip.mp3" >/dev/null
  out=$(wrk -t 2 -c 16 -d "$DURATION" "$url/s/clip.mp3")
  RPS[$who]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  MBS[$who]=$(awk '/Transfer\/sec/ {print $2}' <<<"$out")
  log "$who: ${RPS[$who]} req/s, ${MBS[$who]}"
done

# --- memory: CLIENTS downloads of the big file at once ----------------------
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$EPID/status"; }
before=$(rss_kb)
pids=()
for _ in $(seq 1 "$CLIENTS"); do
  curl -s -o /dev/null --limit-rate "$RATE" "$EURL/s/long.mp3" &
  pids+=($!)
done
peak=$before
deadline=$((SECONDS + 120))
while ((SECONDS < deadline)); do
  now=$(rss_kb)
  ((now > peak)) && peak=$now
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1 && break; done
  ((alive)) || break
  sleep 0.05
done
for pid in "${pids[@]}"; do wait "$pid" || die "a download failed"; done

echo
echo "| ${SIZE_MB} MB file, 16 connections, $DURATION | episodic | nginx (sendfile) | ratio |"
echo "|---|---|---|---|"
awk -v e="${RPS[episodic]}" -v n="${RPS[nginx]}" -v em="${MBS[episodic]}" -v nm="${MBS[nginx]}" 'BEGIN {
  printf "| requests/s (transfer/s) | %s (%s) | %s (%s) | %.2fx |\n", e, em, n, nm, e / n }'
awk -v b="$before" -v p="$peak" -v c="$CLIENTS" -v s="$BIG_MB" 'BEGIN {
  printf "\nepisodic RSS: %.1f MB before, %.1f MB peak while %d clients downloaded a %d MB file: +%.1f MB\n",
    b / 1024, p / 1024, c, s, (p - b) / 1024 }'
awk -v e="${RPS[episodic]}" -v n="${RPS[nginx]}" -v b="$before" -v p="$peak" 'BEGIN {
  printf "goal (>= 0.8x nginx, < 20 MB rise): throughput %s, memory %s\n",
    (e / n >= 0.8 ? "PASS" : "FAIL"), ((p - b) / 1024 < 20 ? "PASS" : "FAIL") }'
