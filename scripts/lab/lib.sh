# shellcheck shell=bash
# Helpers shared by scripts/lab/run.sh and scripts/make-format-fixtures.sh.
# Callers keep the PIDs of the processes they start in the array PIDS.

skip() { echo "lab: skipped: $*" >&2; exit 77; }
die() { echo "lab: $*" >&2; exit 1; }
log() { echo "lab: $*" >&2; }

wait_file() {  # wait_file PATH SECONDS [PID-that-must-stay-alive]
    local i n=$(( $2 * 50 ))
    for ((i = 0; i < n; i++)); do
        [ -e "$1" ] && return 0
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then return 2; fi
        sleep 0.02
    done
    return 1
}
wait_capturing() {  # wait_capturing NETNS PID SECONDS
    # Ready when the capture process owns a packet socket bound to all protocols
    # ("*:lo" or "*:*" in `ss -0`): libpcap binds with protocol 0 first and
    # switches to ETH_P_ALL only at the end of activation.  Works the same for
    # tcpdump and dumpcap, whatever they print.
    local i n=$(( $3 * 50 ))
    for ((i = 0; i < n; i++)); do
        ip netns exec "$1" ss -0 -p -H 2>/dev/null | grep "pid=$2," | grep -q '[[:space:]]\*:' && return 0
        kill -0 "$2" 2>/dev/null || return 2
        sleep 0.02
    done
    return 1
}
wait_idle() {  # wait_idle PID SECONDS: until the process sleeps in two samples running
    # A capturer that the kernel has woken for packets still in its ring is
    # runnable (R) until it has written them; libpcap drops what is left in the
    # ring when SIGINT breaks its loop, so stop it only once it sleeps again.
    local i n=$(( $2 * 50 )) state asleep=0
    for ((i = 0; i < n; i++)); do
        state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 2
        if [ "$state" = S ]; then asleep=$((asleep + 1)); [ $asleep -ge 2 ] && return 0; else asleep=0; fi
        sleep 0.02
    done
    return 1
}
stop_pid() {  # stop_pid PID SIGNAL SECONDS: signal, wait (bounded), then SIGKILL
    local i
    kill -"$2" "$1" 2>/dev/null
    for ((i = 0; i < $3 * 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.02
    done
    kill -0 "$1" 2>/dev/null && { log "warning: pid $1 ignored SIG$2, killing"; kill -KILL "$1" 2>/dev/null; }
    wait "$1" 2>/dev/null
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
    PIDS=("${keep[@]}")
}

packets_captured() {  # packets_captured STDERR-FILE: what tcpdump or dumpcap said it captured, or "?"
    awk '/^[0-9]+ packets? captured/ { print $1; seen = 1 } /^Packets captured: [0-9]+/ { print $3; seen = 1 }
         END { if (!seen) print "?" }' "$1"
}
tcpdump_dropped() {  # tcpdump_dropped STDERR-FILE: sum of "dropped by kernel/interface", or "?" if none printed
    awk '/packets? dropped by (kernel|interface)/ { n += $1; seen = 1 } END { if (seen) print n; else print "?" }' "$1"
}
