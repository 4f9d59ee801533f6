#!/usr/bin/env bash
# Remake the capture-format fixtures in captures/ (or --out DIR) from real traffic.
#
#   scripts/make-format-fixtures.sh [--out DIR]
#
# One network namespace of its own (flowstate-lab-fixtures-PID), its loopback
# only: three short IPv4 connections 127.42.200.2 -> 127.42.200.1:8080 and three
# IPv6 connections [::1] -> [::1]:8086, each a request and a 160-byte reply,
# ending client-first, server-first and with an RST (SO_LINGER {1,0}).
# Four tcpdump processes capture the same traffic at the same time:
#   fmt-usec.pcap     -i lo                                  (microsecond pcap)
#   fmt-nsec.pcap     -i lo --time-stamp-precision nano      (nanosecond pcap)
#   fmt-snap96.pcap   -i lo -s 96                            (truncated frames)
#   fmt-any.pcap      -i any                                 (LINUX_SLL2, link type 276)
# and conversions of them:
#   fmt-usec.pcapng            editcap -F pcapng fmt-usec.pcap
#   fmt-usec-roundtrip.pcap    editcap -F pcap fmt-usec.pcapng
#   fmt-nsec.pcapng            editcap -F pcapng fmt-nsec.pcap
#   fmt-usec.pcap.gz           gzip -n -c fmt-usec.pcap
# Rejected (exit 1, nothing written) if any tcpdump reports a drop or the four
# captures do not hold the same packets.  Exit 77 if a tool is missing.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LAB="$HERE/lab"
OUT="$ROOT/captures"
PY=python3
# shellcheck source=lab/lib.sh
. "$LAB/lib.sh"

while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || { echo "usage: $0 [--out DIR]" >&2; exit 2; }; OUT=$2; shift 2 ;;
        --out=*) OUT=${1#--out=}; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [--out DIR]" >&2; exit 2 ;;
    esac
done

[ "$(id -u)" = 0 ] || skip "needs root (network namespace, tcpdump)"
for c in ip ss tcpdump editcap gzip "$PY"; do
    command -v "$c" >/dev/null 2>&1 || skip "needs '$c' on PATH"
done

mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d /tmp/flowstate-fixtures.XXXXXX)
NS=flowstate-lab-fixtures-$$
PIDS=()
NS_MADE=0
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    [ "$NS_MADE" = 1 ] && ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" 2>/dev/null || skip "cannot create network namespaces (ip netns add failed)"
NS_MADE=1
ip -n "$NS" link set lo up

# name|tcpdump arguments
CAPS=(
    "fmt-usec|-i lo"
    "fmt-nsec|-i lo --time-stamp-precision nano"
    "fmt-snap96|-i lo -s 96"
    "fmt-any|-i any"
)
CAPPID=()
for c in "${CAPS[@]}"; do
    name=${c%%|*}
    read -r -a args <<<"${c#*|}"
    ip netns exec "$NS" tcpdump "${args[@]}" -B 65536 --immediate-mode -n -Z root \
        -w "$TMP/$name.pcap" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    pid=$!
    PIDS+=("$pid")
    CAPPID+=("$pid")
    wait_capturing "$NS" "$pid" 10 || { cat "$TMP/$name.err" >&2; die "tcpdump for $name did not start"; }
done

ip netns exec "$NS" "$PY" "$LAB/scenarios.py" fixture-traffic "$TMP" >"$TMP/py.out" 2>"$TMP/py.err" ||
    { cat "$TMP/py.err" >&2; die "the fixture traffic failed"; }

for pid in "${CAPPID[@]}"; do stop_pid "$pid" INT 10; done
ip netns del "$NS"
NS_MADE=0

bad=0
for c in "${CAPS[@]}"; do
    name=${c%%|*}
    d=$(tcpdump_dropped "$TMP/$name.err")
    if [ "$d" != 0 ]; then
        log "$name: tcpdump dropped: $d"; cat "$TMP/$name.err" >&2; bad=1
    fi
done
[ $bad = 0 ] || die "rejected: capture drops"

# the four captures must hold the same packets (same TCP segments, same order)
"$PY" "$LAB/assemble.py" --compare "$TMP/fmt-usec.pcap" "$TMP/fmt-nsec.pcap" "$TMP/fmt-snap96.pcap" "$TMP/fmt-any.pcap" ||
    die "rejected: the simultaneous captures differ"

editcap -F pcapng "$TMP/fmt-usec.pcap" "$TMP/fmt-usec.pcapng" || die "editcap failed"
editcap -F pcap "$TMP/fmt-usec.pcapng" "$TMP/fmt-usec-roundtrip.pcap" || die "editcap failed"
editcap -F pcapng "$TMP/fmt-nsec.pcap" "$TMP/fmt-nsec.pcapng" || die "editcap failed"
gzip -n -c "$TMP/fmt-usec.pcap" > "$TMP/fmt-usec.pcap.gz" || die "gzip failed"

for f in fmt-usec.pcap fmt-nsec.pcap fmt-snap96.pcap fmt-any.pcap fmt-usec.pcapng \
         fmt-usec-roundtrip.pcap fmt-nsec.pcapng fmt-usec.pcap.gz; do
    chmod 644 "$TMP/$f"
    mv -f "$TMP/$f" "$OUT/$f"
    printf 'lab: wrote %-28s %6d bytes\n' "$f" "$(stat -c %s "$OUT/$f")" >&2
done
exit 0
