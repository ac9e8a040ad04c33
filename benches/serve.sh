#!/usr/bin/env bash
# Benchmark: `episodic serve` vs nginx serving the same precompressed feeds.
# Usage (from the repo root): bash benches/serve.sh
# Env: DURATION (10s, per measured wrk run), BENCH_DIR (default: temp dir,
#      removed at exit), EPISODIC_BIN (use this binary instead of
#      `cargo build --release`), FEED (night-shift/rss.xml, path under the
#      feeds root), THREADS (2, wrk threads), WARMUP (2s, per server and case).
#
# Both servers serve the feeds episodic writes at startup ($D/feeds), on
# loopback. For each case the two servers are measured back to back
# (episodic, then nginx), each after a 2 s warm-up:
#   gzip-64    200, Accept-Encoding: gzip, 64 connections
#   identity-64  200, no Accept-Encoding, 64 connections
#   304-64     If-None-Match with the server's own identity ETag, 64 connections
#   304-1000   the same with 1,000 connections
# Goal: episodic >= 1.0x nginx requests/s and p99 no worse in every case,
# episodic resident memory < 50 MB.
set -euo pipefail

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
FEED=${FEED:-night-shift/rss.xml}
FEED=${FEED#/}
CACHE_CONTROL="public, max-age=300, stale-while-revalidate=60, stale-if-error=86400"
RSS_GOAL_MB=50

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SCRIPT=serve.sh
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

# --- tools -------------------------------------------------------------------
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx)
command -v curl >/dev/null 2>&1 || need+=(curl)
install_packages "${need[@]}"
export PATH=$PATH:/usr/sbin:/sbin
command -v wrk >/dev/null 2>&1 || die "wrk still missing"
command -v nginx >/dev/null 2>&1 || die "nginx still missing"
command -v curl >/dev/null 2>&1 || die "curl still missing"

# wrk with 1,000 connections (and both servers) need more than 1,024 fds.
if ! ulimit -n 65536 2>/dev/null; then
  ulimit -n "$(ulimit -Hn)" || die "cannot raise the open-file limit"
  log "open-file limit: 65536 not allowed, using the hard limit $(ulimit -n)"
fi
NOFILE=$(ulimit -n)
(($(ulimit -n) >= 4096)) || log "warning: open-file limit is only $(ulimit -n)"

# --- episodic binary ---------------------------------------------------------
if [[ -n ${EPISODIC_BIN:-} ]]; then
  BIN=$EPISODIC_BIN
else
  log "cargo build --release"
  cargo build --release
  BIN=$ROOT/target/release/episodic
fi
[[ -x $BIN ]] || die "episodic binary not found at $BIN"

# --- work dir and cleanup ----------------------------------------------------
if [[ -n ${BENCH_DIR:-} ]]; then
  D=$BENCH_DIR
  mkdir -p "$D"
  D=$(cd "$D" && pwd)
  KEEP=1
else
  D=$(mktemp -d "${TMPDIR:-/tmp}/episodic-serve-bench.XXXXXX")
  KEEP=0
fi
EPID=
NPID=

stop_pid() {  # stop_pid <pid> <signal>: signal it, wait up to 10 s
  local pid=$1 sig=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still running 10 s after SIG$sig; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_pid "$EPID" TERM
  stop_pid "$NPID" QUIT   # nginx master: graceful shutdown of all workers
  if ((KEEP)); then
    log "kept $D"
  else
    rm -rf "$D"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "bench dir: $D"
log "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GB RAM", $2/1048576}' /proc/meminfo)"
log "$("$BIN" --version)"
log "$(nginx -v 2>&1)"
log "$(wrk -v 2>&1 | head -n1 || true)"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_until <seconds> <description> <command...>: poll every 0.1 s.
wait_until() {
  local secs=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after ${secs}s waiting for $what"
    sleep 0.1
  done
}

# --- episodic ----------------------------------------------------------------
# A kept BENCH_DIR may hold a previous run's files: start clean.
rm -rf "$D/feeds" "$D/nginx-tmp"
rm -f "$D"/episodic.out "$D"/episodic.err "$D"/nginx.conf "$D"/nginx.pid "$D"/nginx-error.log "$D"/wrk-*.txt
log "starting episodic serve (builds $D/feeds)"
RUST_LOG=warn "$BIN" serve --content content --out "$D/feeds" --listen 127.0.0.1:0 \
  >"$D/episodic.out" 2>"$D/episodic.err" &
EPID=$!
episodic_ready() {
  kill -0 "$EPID" 2>/dev/null || { cat "$D/episodic.err" >&2; die "episodic exited early"; }
  [[ -s $D/episodic.out ]] && grep -q '^http://' "$D/episodic.out"
}
wait_until 120 "episodic to print its URL" episodic_ready
E_BASE=$(grep -m1 '^http://' "$D/episodic.out")
E_BASE=${E_BASE%/}
E_URL=$E_BASE/$FEED
[[ -f $D/feeds/$FEED && -f $D/feeds/$FEED.gz ]] ||
  die "episodic did not write $D/feeds/$FEED and $FEED.gz"
log "episodic (pid $EPID) at $E_BASE/"

# --- nginx -------------------------------------------------------------------
NPORT=${NGINX_PORT:-18082}
while ! port_free "$NPORT"; do NPORT=$((NPORT + 1)); done
mkdir -p "$D/nginx-tmp"
cat >"$D/nginx.conf" <<EOF
# nginx's fastest static setup for the same files (generated by serve.sh).
user root;
daemon off;
pid $D/nginx.pid;
worker_processes auto;
worker_rlimit_nofile $NOFILE;
error_log $D/nginx-error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    types {
        application/rss+xml  xml;
        application/feed+json json;
    }
    default_type application/octet-stream;
    charset utf-8;
    charset_types application/rss+xml application/feed+json;

    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;

    client_body_temp_path $D/nginx-tmp/body;
    proxy_temp_path $D/nginx-tmp/proxy;
    fastcgi_temp_path $D/nginx-tmp/fastcgi;
    uwsgi_temp_path $D/nginx-tmp/uwsgi;
    scgi_temp_path $D/nginx-tmp/scgi;

    server {
        listen 127.0.0.1:$NPORT reuseport;
        root $D/feeds;
        etag on;
        gzip off;
        gzip_static on;
        gzip_vary on;
        add_header Cache-Control "$CACHE_CONTROL" always;
    }
}
EOF
nginx -t -q -c "$D/nginx.conf" -p "$D" || die "nginx rejected $D/nginx.conf"
log "starting nginx on 127.0.0.1:$NPORT"
nginx -c "$D/nginx.conf" -p "$D" &
NPID=$!
N_URL=http://127.0.0.1:$NPORT/$FEED
nginx_ready() {
  kill -0 "$NPID" 2>/dev/null || { cat "$D/nginx-error.log" >&2; die "nginx exited early"; }
  curl -s -o /dev/null "$N_URL"
}
wait_until 30 "nginx to listen" nginx_ready
log "nginx (master pid $NPID) at http://127.0.0.1:$NPORT/"

# --- sanity checks -----------------------------------------------------------
header() {  # header <name> <curl -sI output>
  printf '%s\n' "$2" | tr -d '\r' | awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" \
    'BEGIN{FS=": *"} tolower($1)==n {sub(/^[^:]*: */, ""); print; exit}'
}
status() { printf '%s\n' "$1" | head -n1 | awk '{print $2}'; }

E_ETAG=
N_ETAG=
for who in episodic nginx; do
  if [[ $who == episodic ]]; then url=$E_URL; else url=$N_URL; fi
  id_h=$(curl -sS -I --max-time 10 "$url")
  gz_h=$(curl -sS -I --max-time 10 -H 'Accept-Encoding: gzip' "$url")
  echo
  echo "--- $who: HEAD $url (identity)"
  printf '%s\n' "$id_h" | tr -d '\r'
  echo "--- $who: HEAD $url (Accept-Encoding: gzip)"
  printf '%s\n' "$gz_h" | tr -d '\r'
  [[ $(status "$id_h") == 200 ]] || die "$who: identity HEAD is not 200"
  [[ $(status "$gz_h") == 200 ]] || die "$who: gzip HEAD is not 200"
  [[ -z $(header Content-Encoding "$id_h") ]] || die "$who: identity response has a Content-Encoding"
  [[ $(header Content-Encoding "$gz_h") == gzip ]] || die "$who: no Content-Encoding: gzip for Accept-Encoding: gzip"
  for h in ETag Cache-Control Last-Modified; do
    [[ -n $(header "$h" "$id_h") ]] || die "$who: identity response has no $h"
    [[ -n $(header "$h" "$gz_h") ]] || die "$who: gzip response has no $h"
  done
  [[ $(header Cache-Control "$id_h") == "$CACHE_CONTROL" ]] ||
    die "$who: Cache-Control is '$(header Cache-Control "$id_h")'"
  [[ $(header Vary "$gz_h") == *Accept-Encoding* ]] || die "$who: gzip response has no Vary: Accept-Encoding"
  etag=$(header ETag "$id_h")
  [[ $etag != "$(header ETag "$gz_h")" ]] || die "$who: same ETag for identity and gzip"
  nm_h=$(curl -sS -I --max-time 10 -H "If-None-Match: $etag" "$url")
  echo "--- $who: HEAD $url (If-None-Match: $etag)"
  printf '%s\n' "$nm_h" | tr -d '\r'
  [[ $(status "$nm_h") == 304 ]] || die "$who: If-None-Match: $etag did not give 304"
  # The body sizes wrk will transfer, to check each case moves what it should.
  id_len=$(curl -sS --max-time 10 -o /dev/null -w '%{size_download}' "$url")
  gz_len=$(curl -sS --max-time 10 -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' "$url")
  echo "--- $who: body $id_len B identity, $gz_len B gzip"
  if [[ $who == episodic ]]; then E_ETAG=$etag; else N_ETAG=$etag; fi
done
echo

# --- wrk ---------------------------------------------------------------------
# run_wrk <tag> <duration> <connections> <url> [wrk args...]: output in $D/wrk-<tag>.txt
run_wrk() {
  local tag=$1 dur=$2 conns=$3 url=$4
  shift 4
  local out=$D/wrk-$tag.txt
  # wrk's own timeout (2 s default) would count slow 1,000-connection responses
  # as errors; keep the default so timeouts show up in "Socket errors".
  wrk -t "$THREADS" -c "$conns" -d "$dur" --latency "$@" "$url" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk failed ($tag)"; }
}

# parse <file>: "<req/s> <p99 ms> <bytes/request> <socket errors> <non-2xx/3xx>"
parse() {
  awk '
    function ms(v,  n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000
      if (u == "ms") return n
      if (u == "s")  return n * 1000
      if (u == "m")  return n * 60000
      if (u == "h")  return n * 3600000
      return -1
    }
    function bytes(v,  n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "B")  return n
      if (u == "KB") return n * 1024
      if (u == "MB") return n * 1048576
      if (u == "GB") return n * 1073741824
      if (u == "TB") return n * 1099511627776
      return -1
    }
    /Latency Distribution/ { dist = 1 }
    dist && $1 == "99%" { p99 = ms($2) }
    / requests in / { reqs = $1; read = bytes($5) }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ {
      for (i = 3; i <= NF; i += 2) { v = $(i+1); gsub(/,/, "", v); errs += v }
    }
    /Non-2xx or 3xx responses:/ { non = $NF }
    END {
      if (rps == "" || p99 == "") exit 1
      printf "%s %.3f %.0f %d %d\n", rps, p99, (reqs > 0 ? read / reqs : 0), errs, non
    }' "$1"
}

CASES=(gzip-64 identity-64 304-64 304-1000)
case_conns() { [[ $1 == 304-1000 ]] && echo 1000 || echo 64; }
case_args() {  # case_args <case> <server>: wrk -H options, one per line
  local etag
  if [[ $2 == episodic ]]; then etag=$E_ETAG; else etag=$N_ETAG; fi
  case $1 in
    gzip-*) printf '%s\n' -H 'Accept-Encoding: gzip' ;;
    identity-*) ;;
    304-*) printf '%s\n' -H "If-None-Match: $etag" ;;
  esac
}

declare -A RPS P99 BPR ERR NON
for c in "${CASES[@]}"; do
  conns=$(case_conns "$c")
  for who in episodic nginx; do
    if [[ $who == episodic ]]; then url=$E_URL; else url=$N_URL; fi
    mapfile -t args < <(case_args "$c" "$who")
    log "$c: $who (warm-up $WARMUP, then $DURATION, $conns connections)"
    run_wrk "warmup-$c-$who" "$WARMUP" "$conns" "$url" "${args[@]}"
    run_wrk "$c-$who" "$DURATION" "$conns" "$url" "${args[@]}"
    read -r rps p99 bpr errs non < <(parse "$D/wrk-$c-$who.txt") ||
      { cat "$D/wrk-$c-$who.txt" >&2; die "cannot parse wrk output ($c, $who)"; }
    RPS[$c,$who]=$rps P99[$c,$who]=$p99 BPR[$c,$who]=$bpr ERR[$c,$who]=$errs NON[$c,$who]=$non
    printf '    %-8s %12.0f req/s  p99 %8.2f ms  %7.0f B/response' "$who" "$rps" "$p99" "$bpr" >&2
    { grep -h -e 'Socket errors' -e 'Non-2xx' "$D/wrk-$c-$who.txt" || true; } |
      sed 's/^ */  | /' | tr -d '\n' >&2
    echo >&2
  done
done

# --- memory ------------------------------------------------------------------
vm() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
kill -0 "$EPID" 2>/dev/null || die "episodic died during the runs"
E_RSS_KB=$(vm "$EPID" VmRSS)
E_HWM_KB=$(vm "$EPID" VmHWM)
N_RSS_KB=$(vm "$NPID" VmRSS)
n_workers=0
for w in $(ps -o pid= --ppid "$NPID"); do
  N_RSS_KB=$((N_RSS_KB + $(vm "$w" VmRSS)))
  n_workers=$((n_workers + 1))
done

# --- report ------------------------------------------------------------------
echo
echo "episodic vs nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), GET /$FEED on loopback," \
  "wrk -t $THREADS -d $DURATION, $(nproc) CPUs"
echo
echo "| case | episodic req/s | nginx req/s | ratio | episodic p99 | nginx p99 |"
echo "|---|---:|---:|---:|---:|---:|"
fails=()
for c in "${CASES[@]}"; do
  row=$(awk -v c="$c" \
    -v er="${RPS[$c,episodic]}" -v nr="${RPS[$c,nginx]}" \
    -v ep="${P99[$c,episodic]}" -v np="${P99[$c,nginx]}" 'BEGIN {
      ratio = nr > 0 ? er / nr : 0
      printf "| %s | %.0f | %.0f | %.2fx | %.2f ms | %.2f ms | %s\n", c, er, nr, ratio, ep, np,
        (ratio >= 1.0 && ep <= np) ? "ok" : "miss"
    }')
  echo "${row% *}"
  verdict=${row##* }
  [[ $verdict == ok ]] || fails+=("$c")
done
echo
printf 'episodic RSS: %.1f MB (peak %.1f MB), goal < %d MB\n' \
  "$(awk -v k="$E_RSS_KB" 'BEGIN{print k/1024}')" "$(awk -v k="$E_HWM_KB" 'BEGIN{print k/1024}')" "$RSS_GOAL_MB"
printf 'nginx RSS: %.1f MB (master + %d workers)\n' \
  "$(awk -v k="$N_RSS_KB" 'BEGIN{print k/1024}')" "$n_workers"
echo
for c in "${CASES[@]}"; do
  for who in episodic nginx; do
    if ((${ERR[$c,$who]} > 0 || ${NON[$c,$who]} > 0)); then
      echo "warning: $c $who: $({ grep -h -e 'Socket errors' -e 'Non-2xx' "$D/wrk-$c-$who.txt" || true; } | sed 's/^ *//' | paste -sd';')"
    fi
  done
done
rss_ok=$((E_RSS_KB < RSS_GOAL_MB * 1024))
if ((${#fails[@]} == 0)); then
  echo "goal (>= 1.0x nginx req/s, p99 no worse): PASS in every case"
else
  echo "goal (>= 1.0x nginx req/s, p99 no worse): FAIL in ${fails[*]}"
fi
if ((rss_ok)); then echo "goal (RSS < $RSS_GOAL_MB MB): PASS"; else echo "goal (RSS < $RSS_GOAL_MB MB): FAIL"; fi
