#!/usr/bin/env bash
# PxeKit side by side with tftpd-hpa, dnsmasq (TFTP) and nginx (HTTP), interleaved in one run. See bench/README.md.
#
#   bench/run.sh [--quick] [--rounds N (default 3, ~11 min; 5 takes ~18 min)] [--no-build]
#
# Needs root: every server and client runs in a network namespace created here (dnsmasq can only serve TFTP on
# port 69). Installs nothing; names the Debian package of any missing tool. Stops only the processes it started.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
ROUNDS=3
QUICK=0
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; ROUNDS=1 ;;
        --rounds) ROUNDS=$2; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n 2,7p "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

# Durations: full run about 10 minutes on 2 vCPU, --quick about 2.
if [ "$QUICK" = 1 ]; then TPS_SECONDS=3; WRK_SECONDS=3; RSS_SECONDS=20; else TPS_SECONDS=5; WRK_SECONDS=5; RSS_SECONDS=60; fi

# ---- tools ---------------------------------------------------------------------------------------------------
missing=0
need() { # need COMMAND DEBIAN-PACKAGE
    if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$1" ]; then
        echo "run.sh: $1 not found: apt-get install $2" >&2
        missing=1
    fi
}
need in.tftpd tftpd-hpa
need dnsmasq dnsmasq-base
need nginx nginx-light
need wrk wrk
need curl curl
need ip iproute2
need truncate coreutils
need dotnet dotnet-sdk-10.0
[ "$missing" = 0 ] || exit 1
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespace; dnsmasq's TFTP port is always 69)" >&2; exit 1; }
PATH=$PATH:/usr/sbin

# ---- build -----------------------------------------------------------------------------------------------------
PXEKIT_DLL=$REPO/src/PxeKit.Cli/bin/Release/net10.0/pxekit.dll
LOAD_DLL=$REPO/bench/TftpLoad/bin/Release/net10.0/tftpload.dll
if [ "$BUILD" = 1 ]; then
    echo "== building pxekit and tftpload (Release)"
    dotnet build -c Release --nologo -v quiet "$REPO/src/PxeKit.Cli/PxeKit.Cli.csproj" >/dev/null
    dotnet build -c Release --nologo -v quiet "$REPO/bench/TftpLoad/TftpLoad.csproj" >/dev/null
fi
[ -f "$PXEKIT_DLL" ] && [ -f "$LOAD_DLL" ] || { echo "run.sh: build output missing" >&2; exit 1; }

# ---- work area, namespace, cleanup -----------------------------------------------------------------------------
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$HERE/results/$STAMP
mkdir -p "$RESULTS"
WORK=$(mktemp -d /tmp/pxekit-bench.XXXXXX)
chmod 755 "$WORK"
ROOT=$WORK/root
mkdir -p "$ROOT" "$WORK/pxekit-data" "$WORK/nginx"
NETNS=pxekit-bench-$$
PIDS=()

cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    ip netns del "$NETNS" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NETNS"
NS=(ip netns exec "$NETNS")
"${NS[@]}" ip link set lo up
# glibc's AI_ADDRCONFIG (used by in.tftpd to resolve -a) ignores IPv4 unless a non-loopback address exists.
"${NS[@]}" ip addr add 192.0.2.1/24 dev lo

# Files: random content (so a misplaced block is caught), world-readable (dnsmasq and tftpd-hpa insist).
head -c $((64 << 20)) /dev/urandom >"$ROOT/f64m"
head -c $((8 << 20)) /dev/urandom >"$ROOT/f8m"
head -c 4096 /dev/urandom >"$ROOT/f4k"
for i in $(seq -w 0 63); do truncate -s 1G "$ROOT/big$i"; done   # sparse: 64 GiB of zeros on no disk
chmod 755 "$ROOT"
chmod 644 "$ROOT"/*

# Ports inside the namespace. dnsmasq: 69 (not configurable, see README).
PXE_TFTP=16969; PXE_HTTP=18080; HPA_TFTP=16970; DNSMASQ_TFTP=69; NGINX_HTTP=18081

start_pxekit() {
    "${NS[@]}" dotnet "$PXEKIT_DLL" serve --root "$ROOT" --listen 127.0.0.1 --tftp-port $PXE_TFTP --http-port $PXE_HTTP \
        --log-level warning --data-dir "$WORK/pxekit-data" >>"$RESULTS/pxekit.log" 2>&1 &
    PXEKIT_PID=$!
    PIDS+=("$PXEKIT_PID")
    wait_port udp $PXE_TFTP; wait_port tcp $PXE_HTTP
}
stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
wait_port() { # wait_port udp|tcp PORT
    local flag=-lun; [ "$1" = tcp ] && flag=-ltn
    for _ in $(seq 100); do
        "${NS[@]}" ss $flag "sport = :$2" | grep -q ":$2" && return 0
        sleep 0.1
    done
    echo "run.sh: nothing listens on $1 port $2; see $RESULTS/*.log" >&2
    exit 1
}

echo "== starting servers in namespace $NETNS (work dir $WORK)"
start_pxekit
"${NS[@]}" in.tftpd -L -s "$ROOT" -a 127.0.0.1:$HPA_TFTP >>"$RESULTS/tftpd-hpa.log" 2>&1 &
PIDS+=($!)
"${NS[@]}" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --enable-tftp --tftp-root="$ROOT" \
    --listen-address=127.0.0.1 --bind-interfaces --pid-file= --user=root --tftp-max=1000 --quiet-tftp \
    --log-facility="$RESULTS/dnsmasq.log" &
PIDS+=($!)
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $RESULTS/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_HTTP;
        root $ROOT;
    }
}
EOF
"${NS[@]}" nginx -c "$WORK/nginx/nginx.conf" -e "$RESULTS/nginx-error.log" &
PIDS+=($!)
wait_port udp $HPA_TFTP; wait_port udp $DNSMASQ_TFTP; wait_port tcp $NGINX_HTTP

# Inline socket completions make the client cheaper per datagram, so that it is not the bottleneck; the servers
# run with their defaults.
LOAD=("${NS[@]}" env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 dotnet "$LOAD_DLL")

# ---- sanity: every server serves every file byte for byte ------------------------------------------------------
for f in f4k f8m; do
    for port in $PXE_TFTP $HPA_TFTP $DNSMASQ_TFTP; do
        "${LOAD[@]}" --server 127.0.0.1:$port --file $f --expect-dir "$ROOT" --blksize 1468 --tsize --max-seconds 30 >/dev/null
    done
done
for port in $PXE_HTTP $NGINX_HTTP; do
    "${NS[@]}" curl -fsS "http://127.0.0.1:$port/f64m" | cmp -s - "$ROOT/f64m" || { echo "run.sh: HTTP :$port served wrong bytes" >&2; exit 1; }
done

# ---- measurements ----------------------------------------------------------------------------------------------
RAW=$RESULTS/raw.tsv
printf 'round\tscenario\tserver\tvalue\tunit\tfailures\tdetail\n' >"$RAW"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

record() { # record ROUND SCENARIO SERVER VALUE UNIT FAILURES DETAIL
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW"
    printf '  %-18s %-10s %12s %-6s%s\n' "$2" "$3" "$4" "$5" "$([ "$6" != 0 ] && echo "  FAILURES=$6")"
}

tftp_run() { # tftp_run ROUND SCENARIO SERVER PORT METRIC(mbps|tps) TFTPLOAD-ARGS...
    local round=$1 scenario=$2 server=$3 port=$4 metric=$5
    shift 5
    local line
    line=$("${LOAD[@]}" --server 127.0.0.1:$port --expect-dir "$ROOT" "$@" 2>>"$RESULTS/tftpload.err" || true)
    [ -n "$line" ] || line="RESULT transfers=0 failures=1 mbps=0 tps=0"
    local unit=MB/s; [ "$metric" = tps ] && unit=xfer/s
    record "$round" "$scenario" "$server" "$(echo "$line" | field "$metric")" "$unit" "$(echo "$line" | field failures)" "$line"
}

TFTP_SERVERS=("pxekit:$PXE_TFTP" "tftpd-hpa:$HPA_TFTP" "pxekit:$PXE_TFTP" "dnsmasq:$DNSMASQ_TFTP")
each_tftp() { # each_tftp ROUND SCENARIO METRIC ARGS...: pxekit, tftpd-hpa, pxekit, dnsmasq
    local entry
    for entry in "${TFTP_SERVERS[@]}"; do
        tftp_run "$1" "$2" "${entry%%:*}" "${entry##*:}" "$3" "${@:4}"
    done
}

http_run() { # http_run ROUND SERVER PORT
    local out rps mbps code size
    out=$("${NS[@]}" wrk -t2 -c64 -d${WRK_SECONDS}s "http://127.0.0.1:$3/f4k" 2>&1 || true)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    local errors; errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {n++} END {print n+0}')
    record "$1" http-4k-c64 "$2" "${rps:-0}" req/s "$errors" "$(echo "$out" | tr '\n\t' '  ')"
    read -r code size mbps < <("${NS[@]}" curl -s -o /dev/null -w '%{http_code} %{size_download} %{speed_download}\n' "http://127.0.0.1:$3/f64m")
    local bad=0; { [ "$code" = 200 ] && [ "$size" = $((64 << 20)) ]; } || bad=1
    record "$1" http-64m "$2" "$(awk -v b="$mbps" 'BEGIN {printf "%.2f", b / 1e6}')" MB/s "$bad" "code=$code size=$size"
}

for round in $(seq "$ROUNDS"); do
    echo "== round $round of $ROUNDS ($(date -u +%H:%M:%S))"
    each_tftp "$round" tftp-64m-lockstep mbps --file f64m --blksize 1468 --tsize --max-seconds 60
    each_tftp "$round" tftp-64m-window16 mbps --file f64m --blksize 1468 --tsize --windowsize 16 --max-seconds 60
    each_tftp "$round" tftp-64x8m-lockstep mbps --file f8m --concurrency 64 --blksize 1468 --tsize --max-seconds 90
    each_tftp "$round" tftp-64x8m-window16 mbps --file f8m --concurrency 64 --blksize 1468 --tsize --windowsize 16 --max-seconds 90
    each_tftp "$round" tftp-4k-16inflight tps --file f4k --concurrency 16 --duration $TPS_SECONDS --blksize 1468 --tsize --max-seconds 60
    http_run "$round" pxekit $PXE_HTTP
    http_run "$round" nginx $NGINX_HTTP
    http_run "$round" pxekit $PXE_HTTP
done

# ---- peak RSS: 64 clients x 1 GiB, on a fresh pxekit so that VmHWM covers this scenario only ---------------------
echo "== peak RSS: 64 x 1 GiB (windowsize 16), at most ${RSS_SECONDS}s ($(date -u +%H:%M:%S))"
stop_pid "$PXEKIT_PID"
start_pxekit
idle_kb=$(awk '/VmRSS/ {print $2}' "/proc/$PXEKIT_PID/status")
files=(); for i in $(seq -w 0 63); do files+=(--file "big$i"); done
line=$("${LOAD[@]}" --server 127.0.0.1:$PXE_TFTP --expect-dir "$ROOT" "${files[@]}" --concurrency 64 --blksize 1468 --tsize \
    --windowsize 16 --max-seconds "$RSS_SECONDS" --sample-pid "$PXEKIT_PID" 2>>"$RESULTS/tftpload.err" || true)
peak_kb=$(echo "$line" | field peak_rss_kb); hwm_kb=$(echo "$line" | field hwm_kb)
record 1 rss-64x1g pxekit "$(awk -v k="${hwm_kb:-0}" 'BEGIN {printf "%.1f", k / 1024}')" MiB "$(echo "$line" | field failures)" \
    "idle_rss_kb=$idle_kb peak_sampled_rss_kb=$peak_kb $line"

# ---- summary: medians and ratios -------------------------------------------------------------------------------
SUMMARY=$RESULTS/summary.txt
median() { # median SCENARIO SERVER
    awk -F'\t' -v s="$1" -v v="$2" 'NR > 1 && $2 == s && $3 == v {print $4}' "$RAW" | sort -g |
        awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
failures() { awk -F'\t' -v s="$1" 'NR > 1 && $2 == s {n += $6} END {print n + 0}' "$RAW"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b}'; }
{
    echo "PxeKit bench $STAMP on $(nproc) vCPU ($(uname -r)), $ROUNDS round(s), medians; pxekit $(git -C "$REPO" rev-parse --short HEAD)"
    echo "peers: $(in.tftpd -V 2>&1 | head -1 | cut -d, -f1); $(dnsmasq --version | head -1 | cut -d' ' -f1-3); $(nginx -v 2>&1 | cut -d' ' -f3)"
    printf '%-22s %-7s %10s %10s %10s %10s   %-9s %-9s %-9s  %s\n' scenario unit pxekit tftpd-hpa dnsmasq nginx "/tftpd-hpa" "/dnsmasq" "/nginx" failures
    for s in tftp-64m-lockstep tftp-64m-window16 tftp-64x8m-lockstep tftp-64x8m-window16 tftp-4k-16inflight http-4k-c64 http-64m rss-64x1g; do
        p=$(median $s pxekit); h=$(median $s tftpd-hpa); d=$(median $s dnsmasq); n=$(median $s nginx)
        unit=$(awk -F'\t' -v s="$s" 'NR > 1 && $2 == s {print $5; exit}' "$RAW")
        printf '%-22s %-7s %10s %10s %10s %10s   %-9s %-9s %-9s  %s\n' "$s" "$unit" "$p" "$h" "$d" "$n" \
            "$(ratio "$p" "$h")" "$(ratio "$p" "$d")" "$(ratio "$p" "$n")" "$(failures $s)"
    done
    echo
    echo "targets (same run):"
    w=$(median tftp-64m-window16 pxekit); hl=$(median tftp-64m-lockstep tftpd-hpa)
    verdict() { awk -v r="$1" -v t="$2" 'BEGIN {if (r == "-") print "n/a"; else if (r + 0 >= t + 0) print "MET"; else print "MISSED"}'; }
    r=$(ratio "$w" "$hl"); echo "  windowed single 64 MiB >= 4x tftpd-hpa lock-step:  $r  $(verdict "$r" 4)"
    r=$(ratio "$(median tftp-4k-16inflight pxekit)" "$(median tftp-4k-16inflight dnsmasq)"); echo "  4 KiB transfers/s >= dnsmasq:                       $r  $(verdict "$r" 1)"
    r=$(ratio "$(median tftp-64x8m-lockstep pxekit)" "$(median tftp-64x8m-lockstep dnsmasq)"); echo "  64 x 8 MiB lock-step >= dnsmasq:                    $r  $(verdict "$r" 1)"
    r=$(ratio "$(median tftp-64x8m-window16 pxekit)" "$(median tftp-64x8m-window16 dnsmasq)"); echo "  64 x 8 MiB windowsize 16 asked >= dnsmasq:          $r  $(verdict "$r" 1)"
    r=$(ratio "$(median http-4k-c64 pxekit)" "$(median http-4k-c64 nginx)"); echo "  HTTP 4 KiB req/s >= 0.8x nginx:                     $r  $(verdict "$r" 0.8)"
    rss=$(median rss-64x1g pxekit); echo "  peak RSS (VmHWM) 64 x 1 GiB < 150 MB:               ${rss} MiB  $(awk -v m="$rss" 'BEGIN {print (m + 0 < 150) ? "MET" : "MISSED"}')"
    echo "  rss run: $(awk -F'\t' '$2 == "rss-64x1g" {print $7}' "$RAW")"
} | tee "$SUMMARY"
ln -sfn "$STAMP" "$HERE/results/latest"
echo "raw figures: $RAW"
