#!/usr/bin/env bash
# flowstate kernel lab: real captures with the Linux kernel's own answer beside each.
#
#   scripts/lab/run.sh [--out DIR] [SCENARIO...]      (npm run lab)
#
# For every scenario (all of them when none is named): a fresh network
# namespace, tcpdump (or dumpcap) on its loopback, a python3 socket program
# (scripts/lab/scenarios.py), nft drops in the namespace to freeze states,
# the sock:inet_sock_set_state tracepoint in a private tracefs instance, and
# `ss` at the end.  Writes DIR/<scenario>.pcap[ng] and
# DIR/<scenario>.expected.json (default DIR: captures/).  See docs/lab.md.
#
# A scenario whose capture is empty is run once more.
# Exit status: 0 all scenarios passed; 1 some scenario was rejected (message
# on stderr, nothing written for it); 2 usage; 77 a prerequisite is missing
# (one line saying which), so a test can skip.
#
# Safety: traffic only inside namespaces created here (flowstate-lab-*-PID),
# only on their loopback, only 127.42.0.0/16 and ::1.  Every namespace, process
# and tracefs instance created here is removed on exit.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/captures"
TR=/sys/kernel/tracing
PY=python3
SCEN="$HERE/scenarios.py"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

usage() {
    echo "usage: $0 [--out DIR] [SCENARIO...]"
    echo "scenarios: $($PY "$SCEN" list 2>/dev/null)"
}


# ---------------------------------------------------------------- arguments
WANT=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; OUT=$2; shift 2 ;;
        --out=*) OUT=${1#--out=}; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) usage >&2; exit 2 ;;
        *) WANT+=("$1"); shift ;;
    esac
done

# ---------------------------------------------------------------- prerequisites
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nft, tcpdump, tracefs)"
for c in ip nft tcpdump ss "$PY" flock; do
    command -v "$c" >/dev/null 2>&1 || skip "needs '$c' on PATH"
done
ALL=$($PY "$SCEN" list) || skip "python3 cannot run $SCEN"
if [ ${#WANT[@]} -eq 0 ]; then
    read -r -a WANT <<<"$ALL"
fi
for s in "${WANT[@]}"; do
    case " $ALL " in *" $s "*) ;; *) echo "lab: unknown scenario '$s'" >&2; usage >&2; exit 2 ;; esac
done
case " ${WANT[*]} " in
    *" pcapng "*)
        command -v dumpcap >/dev/null 2>&1 || command -v editcap >/dev/null 2>&1 ||
            skip "the pcapng scenario needs 'dumpcap' or 'editcap' (wireshark-common / tshark)" ;;
esac
case " ${WANT[*]} " in
    *" crossing-fins-delayed "* | *" time-wait-stale-rst "*)
        command -v iptables >/dev/null 2>&1 ||
            skip "the crossing-fins-delayed and time-wait-stale-rst scenarios need 'iptables' (its NFQUEUE target)" ;;
esac

MOUNTED_TRACEFS=0
if [ ! -d "$TR/instances" ]; then
    mkdir -p "$TR" 2>/dev/null
    mount -t tracefs nodev "$TR" 2>/dev/null || skip "needs tracefs (could not mount it at $TR)"
    MOUNTED_TRACEFS=1
fi
EV=events/sock/inet_sock_set_state
[ -d "$TR/$EV" ] || skip "needs the sock:inet_sock_set_state tracepoint ($TR/$EV missing)"

PROBE=flowstate-lab-probe-$$
ip netns add "$PROBE" 2>/dev/null || skip "cannot create network namespaces (ip netns add failed)"
if ! ip netns exec "$PROBE" nft add table inet flowstate_probe 2>/dev/null; then
    ip netns del "$PROBE" 2>/dev/null
    skip "nftables does not work inside a network namespace"
fi
ip netns del "$PROBE"

mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

# one lab at a time: the tracepoint is global and scenario addresses repeat across runs
{ exec 9>/run/lock/flowstate-lab.lock; } 2>/dev/null || exec 9>/tmp/flowstate-lab.lock
flock -w 600 9 || die "another lab run holds the lock for more than 10 minutes"

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d /tmp/flowstate-lab.XXXXXX)
INST="$TR/instances/flowstate-lab-$$"
NSLIST=()
PIDS=()
cleanup() {
    local p n
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for n in "${NSLIST[@]}"; do ip netns del "$n" 2>/dev/null; done
    if [ -d "$INST" ]; then
        echo 0 > "$INST/tracing_on" 2>/dev/null
        echo 0 > "$INST/$EV/enable" 2>/dev/null
        rmdir "$INST" 2>/dev/null || log "warning: could not remove $INST"
    fi
    [ "$MOUNTED_TRACEFS" = 1 ] && umount "$TR" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tracefs instance
mkdir "$INST" || die "cannot create tracefs instance $INST"
echo 0 > "$INST/tracing_on"
CLOCK=
for c in tai; do
    if grep -qw "$c" "$INST/trace_clock" && echo "$c" > "$INST/trace_clock" 2>/dev/null; then CLOCK=$c; break; fi
done
if [ -z "$CLOCK" ]; then
    CLOCK=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$INST/trace_clock")
    log "warning: trace clock 'tai' unavailable, using '$CLOCK' (not comparable with capture timestamps)"
fi
echo 4096 > "$INST/buffer_size_kb"
echo 1 > "$INST/$EV/enable" || die "cannot enable $EV"
KERNEL=$(uname -r)

# ---------------------------------------------------------------- one scenario
run_one() {
    local name=$1 S_INDEX S_PORTS S_IFACE S_FMT S_SNAPLEN S_MIDSTREAM S_EDIT
    eval "$($PY "$SCEN" info "$name")"
    local W="$TMP/$name" ns="flowstate-lab-$name-$$"
    rm -rf "$W"   # a second attempt starts from nothing: no ready or stop file of the first
    mkdir -p "$W"
    local plist
    plist=$(echo "$S_PORTS" | sed 's/ /, /g')
    echo "{\"index\": $S_INDEX, \"ports\": [$plist]}" > "$W/info.json"

    ip netns add "$ns" || { log "$name: ip netns add failed"; return 1; }
    NSLIST+=("$ns")
    ip -n "$ns" link set lo up

    # trace only this scenario's ports (addresses are filtered in assemble.py)
    local filter="" p
    for p in $S_PORTS; do filter="${filter:+$filter || }sport == $p || dport == $p"; done
    echo 0 > "$INST/tracing_on"
    echo "$filter" > "$INST/$EV/filter" || { log "$name: bad trace filter '$filter'"; return 1; }
    echo > "$INST/trace"
    echo 1 > "$INST/tracing_on"

    local cap capkind capid refid="" pypid rc
    cap="$W/$name.$S_FMT"
    start_capture() {
        if [ "$S_FMT" = pcapng ] && command -v dumpcap >/dev/null 2>&1; then
            capkind=dumpcap
            local snap=()
            [ "$S_SNAPLEN" != 0 ] && snap=(-s "$S_SNAPLEN")
            # a tcpdump beside it, as a reference for completeness (see the stop below)
            ip netns exec "$ns" tcpdump -i "$S_IFACE" -B 131072 --immediate-mode -n -Z root "${snap[@]}" \
                -w "$W/reference.pcap" >"$W/reference.out" 2>"$W/reference.err" &
            refid=$!
            PIDS+=("$refid")
            wait_capturing "$ns" "$refid" 10 || return 1
            ip netns exec "$ns" dumpcap -i "$S_IFACE" -B 128 "${snap[@]}" -w "$cap" >"$W/capture.out" 2>"$W/capture.err" &
            capid=$!
            PIDS+=("$capid")
            wait_capturing "$ns" "$capid" 10
        else
            capkind=pcap
            local snap=()
            [ "$S_SNAPLEN" != 0 ] && snap=(-s "$S_SNAPLEN")
            local target="$cap"
            [ "$S_FMT" = pcapng ] && target="$W/$name.pcap"   # converted with editcap below
            ip netns exec "$ns" tcpdump -i "$S_IFACE" -B 131072 --immediate-mode -n -Z root "${snap[@]}" \
                -w "$target" >"$W/capture.out" 2>"$W/capture.err" &
            capid=$!
            PIDS+=("$capid")
            wait_capturing "$ns" "$capid" 10
        fi
    }

    if [ "$S_MIDSTREAM" = 1 ]; then
        ip netns exec "$ns" "$PY" "$SCEN" run "$name" "$W" >"$W/py.out" 2>"$W/py.err" &
        pypid=$!
        PIDS+=("$pypid")
        wait_file "$W/established" 15 "$pypid"; rc=$?
        if [ $rc != 0 ]; then log "$name: socket program failed before the capture:"; cat "$W/py.err" >&2; return 1; fi
        start_capture || { log "$name: capture did not start:"; cat "$W/capture.err" >&2; return 1; }
        touch "$W/go"
    else
        start_capture || { log "$name: capture did not start:"; cat "$W/capture.err" >&2; return 1; }
        ip netns exec "$ns" "$PY" "$SCEN" run "$name" "$W" >"$W/py.out" 2>"$W/py.err" &
        pypid=$!
        PIDS+=("$pypid")
    fi

    wait_file "$W/ready" 30 "$pypid"; rc=$?
    if [ $rc != 0 ]; then
        log "$name: the socket program did not reach its final state:"
        cat "$W/py.err" >&2
        stop_pid "$capid" INT 5
        stop_pid "$pypid" TERM 5
        return 1
    fi

    # the kernel's view, while every socket is still held and the capture still runs
    ip netns exec "$ns" ss -tanoH state all > "$W/ss.txt"
    ip netns exec "$ns" ss -tanoiH state all > "$W/ss_info.txt"
    ip netns exec "$ns" nft list ruleset > "$W/nft.txt"
    echo 0 > "$INST/tracing_on"
    if [ "$capkind" = dumpcap ]; then
        # dumpcap has no immediate mode: packets sit in a TPACKET_V3 block until it is full or
        # its timeout expires, and on SIGINT dumpcap drops a block it has not read yet, without
        # counting those packets as dropped.  Let the block time out first; assemble.py then
        # checks the pcapng holds as many packets as the reference tcpdump.
        sleep 1
        wait_idle "$refid" 5
        stop_pid "$refid" INT 10
    fi
    wait_idle "$capid" 5 || log "$name: warning: the capture process did not go idle in 5 s"
    stop_pid "$capid" INT 10
    touch "$W/stop"
    stop_pid "$pypid" TERM 5

    # the trace, read three times from the stopped buffer: ns timestamps, skaddr, addresses
    echo 1 > "$INST/options/raw"
    grep -v '^#' "$INST/trace" > "$W/trace_raw.txt"
    echo 0 > "$INST/options/raw"
    echo 1 > "$INST/options/fields"
    grep -v '^#' "$INST/trace" > "$W/trace_fields.txt"
    echo 0 > "$INST/options/fields"
    grep -v '^#' "$INST/trace" > "$W/trace_text.txt"
    cat "$INST"/per_cpu/cpu*/stats > "$W/trace_stats.txt"
    echo > "$INST/trace"

    ip netns del "$ns"

    if [ "$S_FMT" = pcapng ] && [ "$capkind" = pcap ]; then
        editcap -F pcapng "$W/$name.pcap" "$cap" || { log "$name: editcap failed"; return 1; }
        echo "pcapng written by 'editcap -F pcapng' from a tcpdump pcap (dumpcap not installed)" >> "$W/capture.out"
    fi

    if [ -n "$S_EDIT" ]; then
        # a capture defect made afterwards (scenarios.py edit): the kernel's answer is unchanged
        "$PY" "$SCEN" edit "$name" "$cap" || { log "$name: editing the capture ($S_EDIT) failed"; return 1; }
    fi

    if [ "$(packets_captured "$W/capture.err")" = 0 ]; then
        log "$name: the capture is empty; the capturer said: $(tr '\n' ' ' < "$W/capture.err")"
        return 3
    fi
    "$PY" "$HERE/assemble.py" "$W" "$OUT" "$name" "$cap" "$S_IFACE" "$KERNEL" "$CLOCK" "$capkind" || {
        log "$name: rejected (kept for inspection: $W, removed on exit)"
        return 1
    }
    chmod 644 "$cap"
    mv -f "$cap" "$OUT/$name.$S_FMT"
    local other=pcap; [ "$S_FMT" = pcap ] && other=pcapng
    rm -f "$OUT/$name.$other"
    return 0
}

# ---------------------------------------------------------------- main
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
START=$EPOCHREALTIME
FAILED=()
for name in "${WANT[@]}"; do
    t0=$EPOCHREALTIME
    run_one "$name"; rc=$?
    if [ $rc = 3 ]; then
        # an empty capture says nothing of the kernel, only of the capture; run it once more
        log "$name: running it again"
        run_one "$name"; rc=$?
    fi
    if [ $rc = 0 ]; then
        printf 'lab: %-30s ok   %5ss\n' "$name" "$(elapsed "$t0")" >&2
    else
        FAILED+=("$name")
        printf 'lab: %-30s FAILED\n' "$name" >&2
    fi
done
log "$(( ${#WANT[@]} - ${#FAILED[@]} ))/${#WANT[@]} scenarios ok in $(elapsed "$START")s; output in $OUT"
if [ ${#FAILED[@]} -gt 0 ]; then
    log "rejected: ${FAILED[*]}"
    exit 1
fi
exit 0
