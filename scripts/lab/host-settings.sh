#!/bin/bash
# Kernel-lab captures for `flowstate hosts` (issue 32), on this machine's kernel,
# in a network namespace of their own (its loopback only). Needs root.
#   host-syn-retries:  sysctl net.ipv4.tcp_syn_retries=2 in the namespace; the
#                      listener's INPUT drops SYNs (captured, never delivered:
#                      the sender is not told) until the connect gives up.
#   host-keepalive:    a client with SO_KEEPALIVE and TCP_KEEPIDLE/KEEPINTVL/
#                      KEEPCNT set by setsockopt; once the connection is up,
#                      the server's INPUT drops everything, so the probes go
#                      unanswered until the client resets the connection.
# Each writes captures/NAME.pcap and captures/NAME.settings.json (the configured values).
# Usage: sudo scripts/lab/host-settings.sh [OUTDIR]
set -euo pipefail
out=$(realpath "${1:-captures}")
ns="fs-hosts-$$"
ip netns add "$ns"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up

capture() { # name port -> starts tcpdump, sets $dump_pid
  in_ns tcpdump -i lo -B 131072 --immediate-mode -U -w "$out/$1.pcap" "tcp port $2" 2>"$out/.$1.tcpdump" &
  dump_pid=$!
  sleep 1
}
finish() { # name
  sleep 0.5
  kill -TERM "$dump_pid"; wait "$dump_pid" || true
  if grep -Eq '^[1-9][0-9]* packets dropped by kernel' "$out/.$1.tcpdump"; then echo "tcpdump dropped packets: $1" >&2; exit 1; fi
  rm -f "$out/.$1.tcpdump"
}

# ---- host-syn-retries
in_ns sysctl -qw net.ipv4.tcp_syn_retries=2
in_ns nft -f - <<'NFT'
table inet flowstate_hosts {
  chain input {
    type filter hook input priority 0;
    tcp dport 9001 tcp flags & (syn | ack) == syn drop
  }
}
NFT
capture host-syn-retries 9001
in_ns python3 - <<'PY'
import socket, time
srv = socket.socket(); srv.bind(("127.42.40.1", 9001)); srv.listen(8)
c = socket.socket(); c.bind(("127.42.40.2", 0))
start = time.time()
try:
    c.connect(("127.42.40.1", 9001))
    raise SystemExit("the connect succeeded: the SYN drop did not work")
except TimeoutError:
    print(f"connect gave up after {time.time() - start:.2f} s")
time.sleep(2.5)  # the capture goes on past the give-up, so that it shows:
# a connection that succeeds (the SYN drop removed) marks the capture's later end.
import subprocess
subprocess.run(["nft", "delete", "table", "inet", "flowstate_hosts"], check=True)
m = socket.socket(); m.bind(("127.42.40.3", 0)); m.connect(("127.42.40.1", 9001)); m.close()
PY
finish host-syn-retries
linear=$(in_ns sysctl -n net.ipv4.tcp_syn_linear_timeouts)
cat > "$out/host-syn-retries.settings.json" <<JSON
{
  "description": "tcp_syn_retries=2 (sysctl in the namespace); SYNs dropped at the listener's INPUT until connect() gives up; the capture goes on 2.5 s after, to a connection from 127.42.40.3 that succeeds",
  "kernel": "$(uname -r)",
  "hosts": { "127.42.40.2": { "tcp_syn_retries": 2, "tcp_syn_linear_timeouts": $linear } }
}
JSON

# ---- host-keepalive
capture host-keepalive 9002
in_ns python3 - <<'PY'
import socket, subprocess, time
srv = socket.socket(); srv.bind(("127.42.40.1", 9002)); srv.listen(8)
c = socket.socket(); c.bind(("127.42.40.2", 0))
c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 2)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
c.connect(("127.42.40.1", 9002))
a, _ = srv.accept()
c.sendall(b"hello"); a.recv(5); a.sendall(b"world"); c.recv(5)
time.sleep(0.2)
# From now on the server hears nothing: the probes go unanswered.
subprocess.run(["nft", "-f", "-"], check=True, input=b"table inet flowstate_hosts {\n chain input {\n  type filter hook input priority 0;\n  tcp dport 9002 drop\n }\n}\n")
start = time.time()
try:
    c.recv(1)
    raise SystemExit("recv returned: the keepalive did not give up")
except (TimeoutError, ConnectionError) as e:
    print(f"keepalive gave up after {time.time() - start:.2f} s: {e}")
time.sleep(0.5)
PY
finish host-keepalive
cat > "$out/host-keepalive.settings.json" <<JSON
{
  "description": "client with SO_KEEPALIVE, TCP_KEEPIDLE=2, TCP_KEEPINTVL=1, TCP_KEEPCNT=3 (setsockopt); after a short exchange the server's INPUT drops everything, so the probes go unanswered until the client resets",
  "kernel": "$(uname -r)",
  "hosts": { "127.42.40.2": { "tcp_keepalive_time": 2, "tcp_keepalive_intvl": 1, "tcp_keepalive_probes": 3 } }
}
JSON
in_ns nft delete table inet flowstate_hosts
echo "wrote $out/host-syn-retries.pcap and $out/host-keepalive.pcap"
