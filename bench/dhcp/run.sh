#!/bin/sh
# DHCP benchmark: perfdhcp simulating PXE clients (options 60 and 93) against dnsmasq, Kea and pxekit, one after
# another, in the same run and the same network namespaces. As root. Usage: bench/dhcp/run.sh [RATE] [CLIENTS] [SECONDS]
#
# Topology: namespace "server" with bridge br0 192.0.2.1/24 (each DHCP server in turn); namespace "client" with eth0
# 192.0.2.2/24 where perfdhcp runs as a relay (giaddr 192.0.2.2), so every server answers by unicast to port 67.
# Every server stores leases on disk: dnsmasq its lease file, Kea memfile (persist), pxekit SQLite (durable before ACK).
set -eu
rate=${1:-500}
clients=${2:-200}
seconds=${3:-20}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/pxekit-bench-dhcp-XXXXXX)
srv=pxekit-bench-s-$$
cli=pxekit-bench-c-$$
pids=""

cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    ip netns del "$cli" 2>/dev/null || true
    ip netns del "$srv" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

for tool in perfdhcp dnsmasq kea-dhcp4 dotnet; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing (perfdhcp: kea-admin, kea-dhcp4: kea-dhcp4-server, dnsmasq: dnsmasq)" >&2; exit 2; }
done

echo "building pxekit (Release)..." >&2
dotnet publish "$repo/src/PxeKit.Cli" -c Release -o "$work/pxekit" --nologo -v quiet >/dev/null

ip netns add "$srv"; ip netns add "$cli"
ip -n "$srv" link set lo up
ip -n "$srv" link add br0 type bridge stp_state 0 forward_delay 0
ip -n "$srv" addr add 192.0.2.1/24 dev br0
ip -n "$srv" link set br0 up
ip link add veth0 netns "$srv" type veth peer name eth0 netns "$cli"
ip -n "$srv" link set veth0 master br0; ip -n "$srv" link set veth0 up
ip -n "$cli" link set lo up; ip -n "$cli" addr add 192.0.2.2/24 dev eth0; ip -n "$cli" link set eth0 up

vendor=$(printf 'PXEClient:Arch:00007:UNDI:003016' | od -An -tx1 | tr -d ' \n')

bench() { # name
    # A short warm-up (JIT, caches, ARP), then the measured run.
    ip netns exec "$cli" perfdhcp -4 -l eth0 -r 20 -n 20 -R "$clients" -p 3 -W 1000000 -o "60,$vendor" -o 93,0007 >/dev/null 2>&1 || true
    out=$(ip netns exec "$cli" perfdhcp -4 -l eth0 -r "$rate" -R "$clients" -p "$seconds" -W 2000000 -o "60,$vendor" -o 93,0007 -x t 2>&1 || true)
    echo "$out" > "$work/$1.perfdhcp.txt"
    echo "$out" | awk -v name="$1" '
        /^Rate:/ { rate=$2 }
        /Statistics for: DISCOVER-OFFER/ { s="do" } /Statistics for: REQUEST-ACK/ { s="ra" }
        /^sent packets:/ { sent[s]=$3 } /^received packets:/ { recv[s]=$3 } /^drops ratio:/ { drops[s]=$3 }
        /^avg delay:/ { avg[s]=$3 } /^max delay:/ { max[s]=$3 } /^std deviation:/ { sd[s]=$3 }
        END { printf "%-8s %8.1f/s  DO %5s/%-5s drop %5s%%  avg %6s ms max %7s ms sd %6s | RA %5s/%-5s drop %5s%%  avg %6s ms max %7s ms sd %6s\n",
              name, rate, recv["do"], sent["do"], drops["do"], avg["do"], max["do"], sd["do"], recv["ra"], sent["ra"], drops["ra"], avg["ra"], max["ra"], sd["ra"] }'
    # Percentiles from perfdhcp's per-exchange timestamps (-x t): "sent / received: S / R" under each section.
    for section in DISCOVER-OFFER REQUEST-ACK; do
        echo "$out" | awk -v want="$section" '/^\*\*\*Timestamps for packets:/ { on = ($NF == want "***") || index($0, want) > 0 } on && /^sent \/ received:/ { printf "%.3f\n", ($6 - $4) * 1000 }' \
            | sort -n > "$work/$1.$section.ms"
    done
    pct() { n=$(wc -l < "$1"); [ "$n" -gt 0 ] || { echo n/a; return; }; i=$(( (n * $2 + 99) / 100 )); [ "$i" -ge 1 ] || i=1; sed -n "${i}p" "$1"; }
    echo "         p50/p99/max ms: DISCOVER-OFFER $(pct "$work/$1.DISCOVER-OFFER.ms" 50)/$(pct "$work/$1.DISCOVER-OFFER.ms" 99)/$(pct "$work/$1.DISCOVER-OFFER.ms" 100) (max), REQUEST-ACK $(pct "$work/$1.REQUEST-ACK.ms" 50)/$(pct "$work/$1.REQUEST-ACK.ms" 99)/$(pct "$work/$1.REQUEST-ACK.ms" 100) (max)"
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; sleep 1; }

echo "perfdhcp: $clients PXE clients (60 PXEClient, 93 = 7), $rate exchanges/s for $seconds s; DO = DISCOVER-OFFER, RA = REQUEST-ACK"

# dnsmasq: no ping (it would throttle new OFFERs), leases in a file
ip netns exec "$srv" dnsmasq --keep-in-foreground --port=0 --conf-file=/dev/null --user=root --interface=br0 --bind-interfaces \
    --dhcp-range=192.0.2.10,192.0.2.250,12h --dhcp-lease-max=1000 --no-ping --dhcp-leasefile="$work/dnsmasq.leases" \
    --pid-file="$work/dnsmasq.pid" --dhcp-boot=ipxe.efi,,192.0.2.1 --log-facility=/dev/null &
p=$!; pids="$pids $p"; sleep 2; bench dnsmasq; stop "$p"

# Kea: memfile with persist, as shipped
cat > "$work/kea.json" <<KEA
{ "Dhcp4": { "interfaces-config": { "interfaces": [ "br0" ] },
  "lease-database": { "type": "memfile", "persist": true, "name": "$work/kea-leases4.csv", "lfc-interval": 0 },
  "valid-lifetime": 43200,
  "subnet4": [ { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.250" } ],
                 "next-server": "192.0.2.1", "boot-file-name": "ipxe.efi" } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN", "output_options": [ { "output": "$work/kea.log" } ] } ] } }
KEA
KEA_LOCKFILE_DIR="$work" KEA_PIDFILE_DIR="$work" ip netns exec "$srv" kea-dhcp4 -c "$work/kea.json" >/dev/null 2>&1 &
p=$!; pids="$pids $p"; sleep 2; bench kea; stop "$p"

# pxekit: full mode, SQLite leases committed before each ACK (batched)
mkdir -p "$work/root" "$work/data"
ip netns exec "$srv" "$work/pxekit/pxekit" serve --root "$work/root" --data-dir "$work/data" --tftp-port 0 --http-port 0 \
    --dhcp full --interface br0 --dhcp-range 192.0.2.10-192.0.2.250 --log-level warning >"$work/pxekit.log" 2>&1 &
p=$!; pids="$pids $p"; sleep 4; bench pxekit; stop "$p"
