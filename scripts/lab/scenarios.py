#!/usr/bin/env python3
"""Socket programs for the flowstate kernel lab (stdlib only).

    scenarios.py list                 scenario names, in run order
    scenarios.py info NAME            shell assignments run.sh needs before it starts
    scenarios.py run NAME WORKDIR     run NAME; must be run INSIDE the scenario's netns

Every scenario uses only addresses of its own /24 inside 127.42.0.0/16
(127.42.N.0/24, N = position in ORDER) or ::1, inside a network namespace
created by run.sh.  nft rules go into table `inet flowstate_lab` of that
namespace.  Protocol with run.sh, all through files in WORKDIR:
    established   (midstream only) the connection is up; run.sh then starts
                  the capture and creates `go`
    meta.json     description, expectations, unrevealable endpoints, notes
    ready         the final states are reached and verified; run.sh records
                  ss, stops trace and capture, then creates `stop`
The program keeps every socket open until `stop` appears (at most HOLD_MAX s).

meta.json key `time_wait_seen` (only for a scenario that calls
Lab.watch_time_wait(), now lossy-network; for the expected.json, assemble.py has
to copy it over unchanged): a process beside the socket program (scenarios.py
watch-time-wait, on the other CPUs) makes an inet_diag dump of the namespace's
TIME_WAIT sockets about every 2 ms from the call until `ready`, and lists every
socket the kernel showed in TIME_WAIT (a timewait socket) at any moment, one entry
per sighting episode (listed in consecutive dumps), in order of first sighting:
    {"local": "127.42.27.1:8080", "remote": "127.42.27.2:44008",
     "first_seen_ns": "...", "last_seen_ns": "..."}
first/last_seen_ns: CLOCK_TAI just after the first/last dump that listed it, the
clock of the tracepoint's ts_ns when trace_clock is "tai".  This is the kernel's
only evidence of a TIME_WAIT whose end ss cannot show: entering TIME_WAIT is
traced as FIN_WAIT2/CLOSING -> CLOSE, and a timewait socket killed by an RST at
its RCV.NXT (net.ipv4.tcp_rfc1337=0, tcp_timewait_state_process) has no
tracepoint event.  A TIME_WAIT shorter than one dump interval can be missed.
"""
import errno
import fcntl
import heapq
import random
import threading
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time

ORDER = [
    "client-close", "server-close", "close-wait-leak", "last-ack", "fin-wait1",
    "simultaneous-close-closing", "simultaneous-close-time-wait", "simultaneous-open",
    "syn-sent", "syn-recv", "syn-flood", "rst-abort-linger", "refused", "keepalive",
    "zero-window", "port-reuse", "midstream", "half-close", "ipv6", "many-short",
    "any-interface", "pcapng", "crossing-fins-delayed", "time-wait-stale-rst",
    "syn-ack-not-captured", "fin-behind-hole", "lossy-network",
]

# Per scenario: server ports (also the tracefs filter), capture interface,
# file format, snaplen (0 = tcpdump default), capture started after the
# connection is up (midstream).
DEFAULT_INFO = dict(ports=[8080], iface="lo", fmt="pcap", snaplen=0, midstream=False)
INFO = {
    "simultaneous-open": dict(ports=[5001, 5002]),
    "syn-sent": dict(ports=[8080, 8081]),
    "zero-window": dict(snaplen=200),
    "rst-abort-linger": dict(snaplen=200),
    "ipv6": dict(ports=[8086]),
    "port-reuse": dict(ports=[8080]),
    "midstream": dict(midstream=True),
    "any-interface": dict(iface="any"),
    "pcapng": dict(fmt="pcapng"),
    "syn-ack-not-captured": dict(edit="drop-syn-ack"),
}

HOLD_MAX = 120.0          # never hold sockets longer than this
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
              6: "TIME_WAIT", 7: "CLOSED", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
              11: "CLOSING", 12: "SYN_RECV"}


def info(name):
    d = dict(DEFAULT_INFO)
    d.update(INFO.get(name, {}))
    d["index"] = ORDER.index(name) + 1
    return d


# ---------------------------------------------------------------- helpers

def ep(addr, port):
    """Endpoint text as ss prints it: 1.2.3.4:80, [::1]:80."""
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def sock_ep(s, peer=False):
    a = s.getpeername() if peer else s.getsockname()
    return ep(a[0], a[1])


def _dec_addr(h):
    addr, port = h.split(":")
    raw = bytes.fromhex(addr)
    if len(raw) == 4:
        return ep(socket.inet_ntop(socket.AF_INET, raw[::-1]), int(port, 16))
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return ep(socket.inet_ntop(socket.AF_INET6, words), int(port, 16))


def proc_sockets():
    """[(local, remote, STATE)] from /proc/net/tcp{,6} of this namespace
    (includes request sockets and timewait sockets, like ss)."""
    out = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                lines = f.readlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            f = line.split()
            out.append((_dec_addr(f[1]), _dec_addr(f[2]), TCP_STATES.get(int(f[3], 16), f[3])))
    return out


SOCK_DIAG_BY_FAMILY, NETLINK_SOCK_DIAG, TCPF_TIME_WAIT = 20, 4, 1 << 6


def diag_time_wait(nl, family):
    """[(local, remote)] of every TIME_WAIT socket of one family in this namespace: one
    inet_diag dump (SOCK_DIAG_BY_FAMILY, idiag_states = TCPF_TIME_WAIT) on netlink socket nl.
    The kernel filters by state; /proc/net/tcp is several times slower (it prints every socket)."""
    req = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, TCPF_TIME_WAIT) + bytes(48)
    nl.send(struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, 0x301, 1, 0) + req)  # REQUEST|DUMP
    out = []
    while True:
        data = nl.recv(1 << 17)
        off = 0
        while off + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, off)
            if kind == 3:                                   # NLMSG_DONE
                return out
            if kind == 2:                                   # NLMSG_ERROR
                err = struct.unpack_from("=i", data, off + 16)[0]
                raise OSError(-err, f"inet_diag dump: {os.strerror(-err)}")
            fam = data[off + 16]
            sport, dport = struct.unpack_from(">HH", data, off + 20)
            n = 4 if fam == socket.AF_INET else 16
            out.append((ep(socket.inet_ntop(fam, data[off + 24:off + 24 + n]), sport),
                        ep(socket.inet_ntop(fam, data[off + 40:off + 40 + n]), dport)))
            off += (length + 3) & ~3


def watch_time_wait(outfile, families, interval, cpus):
    """`scenarios.py watch-time-wait`: a process beside the socket program (on another CPU when
    there is one: each dump walks the whole established hash, ~2 ms here) that lists TIME_WAIT
    sockets every `interval` s (at least 0.5 ms between dumps) until SIGTERM, then writes
    {polls, max_gap_ns, seen: time_wait_seen (see the header)} to outfile."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    parent = os.getppid()
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    episodes, current = [], {}      # current: (local, remote) -> its episode, listed in the last dump
    polls, max_gap, last = 0, 0, None
    end = time.monotonic() + 2 * HOLD_MAX
    while True:
        final = bool(stop) or os.getppid() != parent or time.monotonic() > end
        t = time.monotonic()
        found = []
        for fam in families:
            found += diag_time_wait(nl, fam)
        now = time.clock_gettime_ns(time.CLOCK_TAI)
        still = {}
        for pair in found:
            e = current.get(pair) or still.get(pair)
            if e is None:
                e = [pair[0], pair[1], now, now]
                episodes.append(e)
            e[3] = now
            still[pair] = e
        current = still
        polls += 1
        if last is not None:
            max_gap = max(max_gap, now - last)
        last = now
        if final:
            break
        time.sleep(max(0.0005, interval - (time.monotonic() - t)))   # a dump starts every `interval` s
    with open(outfile + ".tmp", "w") as f:
        json.dump(dict(polls=polls, max_gap_ns=max_gap,
                       seen=[dict(local=l, remote=r, first_seen_ns=str(a), last_seen_ns=str(b))
                             for l, r, a, b in episodes]), f)
    os.replace(outfile + ".tmp", outfile)


def state_of(local, remote):
    for l, r, st in proc_sockets():
        if l == local and r == remote:
            return st
    return None


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.005)


def wait_state(local, remote, states, timeout=5.0):
    if isinstance(states, str):
        states = (states,)
    return wait_for(lambda: state_of(local, remote) in states, timeout,
                    f"{local} -> {remote} to be {'/'.join(str(s) for s in states)} "
                    f"(now {state_of(local, remote)})")


def wait_gone(local, remote, timeout=5.0):
    return wait_for(lambda: state_of(local, remote) is None, timeout,
                    f"socket {local} -> {remote} to disappear (now {state_of(local, remote)})")


def outq(s):
    """Bytes in the send queue not yet acknowledged (SIOCOUTQ)."""
    return struct.unpack("i", fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise RuntimeError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def recv_eof(s, limit=1 << 20):
    buf = b""
    while len(buf) < limit:
        chunk = s.recv(65536)
        if not chunk:
            return buf
        buf += chunk
    raise RuntimeError("no EOF")


def close_in_turn(first, second):
    """An orderly close: `first` sends its FIN, `second` reads to EOF (nothing left unread) and closes."""
    first.close()
    if recv_eof(second) != b"":
        raise RuntimeError("unexpected data")
    second.close()


def abort(closer, peer):
    """An abortive close: `closer` sends RST (SO_LINGER {1, 0}); `peer` sees the reset and closes."""
    closer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    closer.close()
    try:
        peer.recv(10)
    except ConnectionResetError:
        pass
    peer.close()


def sysctl(key, value):
    with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
        f.write(str(value))


# ---------------------------------------------------------------- NFQUEUE (stdlib only)

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_MASK, NFQA_CFG_FLAGS = 1, 2, 4, 5
NFQA_CFG_F_GSO = 1 << 2          # hand packets over as they are: no GSO split, no checksum filled in
NFQA_PACKET_HDR, NFQA_VERDICT_HDR, NFQA_PAYLOAD, NFQA_SKB_INFO = 1, 2, 10, 17
NFQA_SKB_CSUMNOTREADY, NFQA_SKB_GSO = 1, 2
NFQNL_CFG_CMD_BIND, NFQNL_COPY_PACKET = 1, 2
NF_DROP, NF_ACCEPT = 0, 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
SOL_PACKET, PACKET_VNET_HDR = 263, 15
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
DUP_MARK = 0x29                  # skb mark of a re-injected copy: the NFQUEUE rule lets it pass


def _nla(kind, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\0" * ((4 - n % 4) % 4)


class NfQueue:
    """A userspace verdict loop on one netfilter queue, over a raw netlink socket.

    `decide(tcp)` gets each queued IPv4 packet as a dict (flags, seq, ack, payload, sport, dport)
    and returns ("accept"|"drop", delay_s); accepted packets with a delay are held and released
    in order once it passes (a delay line). Runs in a thread until `close()`.

    Two more verdicts: ("reorder", delay_s) holds the packet `delay_s` while the packets behind it
    go on (it arrives out of order), and ("duplicate", 0) accepts it and re-injects a byte-identical
    copy of the IP packet on lo through an AF_PACKET socket (`dup_ifname`): the copy passes the
    capture point like any packet and, marked DUP_MARK, is not queued again (the rule must skip
    that mark). `gso=True` asks the kernel for packets untouched (NFQA_CFG_F_GSO): a locally made
    TCP segment still has its partial checksum, so the copy is byte-identical to what was
    captured; the copy is sent with a virtio-net header asking for that checksum to be completed
    (CHECKSUM_PARTIAL again, as the original). `log_all=False` logs only the packets not
    simply accepted."""

    def __init__(self, lab, num, decide, gso=False, log_all=True, dup_ifname="lo"):
        self.lab, self.num, self.decide = lab, num, decide
        self.log_all, self.dup_ifname = log_all, dup_ifname
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        self.seq = 0
        self._config(_nla(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, 0)))
        self._config(_nla(NFQA_CFG_PARAMS, struct.pack("!IB", 0xffff, NFQNL_COPY_PACKET)))
        if gso:
            self._config(_nla(NFQA_CFG_FLAGS, struct.pack("!I", NFQA_CFG_F_GSO)) +
                         _nla(NFQA_CFG_MASK, struct.pack("!I", NFQA_CFG_F_GSO)))
        self.dup_sock = None
        self.ooo = []            # (release monotonic time, n, packet id): reordered, released out of turn
        self.ooo_n = 0
        self.counts = {}
        self.held = []           # (release monotonic time, packet id): the delay line
        self.parked = []         # packet ids held until release()
        self.parked_any = False
        self.releasing = False
        self.stopped = False
        self.log = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _send(self, msg_type, body, flags=NLM_F_REQUEST):
        self.seq += 1
        nfgen = struct.pack("!BBH", socket.AF_UNSPEC, 0, self.num)
        payload = nfgen + body
        hdr = struct.pack("=IHHII", 16 + len(payload), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, self.seq, 0)
        self.sock.send(hdr + payload)

    def _config(self, body):
        self._send(NFQNL_MSG_CONFIG, body, NLM_F_REQUEST | NLM_F_ACK)
        data = self.sock.recv(65536)
        err = struct.unpack_from("=i", data, 16)[0]
        if err != 0:
            raise RuntimeError(f"nfqueue config failed: {os.strerror(-err)}")

    def verdict(self, pid, verdict):
        self._send(NFQNL_MSG_VERDICT, _nla(NFQA_VERDICT_HDR, struct.pack("!II", verdict, pid)))

    def _loop(self):
        while not self.stopped:
            now = time.monotonic()
            if self.releasing:
                for pid in self.parked:
                    self.verdict(pid, NF_ACCEPT)
                self.parked, self.releasing = [], False
            while self.held and self.held[0][0] <= now:
                self.verdict(self.held.pop(0)[1], NF_ACCEPT)
            while self.ooo and self.ooo[0][0] <= now:
                self.verdict(heapq.heappop(self.ooo)[2], NF_ACCEPT)
            due = [x[0] for x in (self.held[:1] + self.ooo[:1])]
            timeout = max(0.0, min(due) - now) if due else 0.05
            r, _, _ = select.select([self.sock], [], [], min(timeout, 0.05))
            if not r:
                continue
            data = self.sock.recv(262144)
            off = 0
            while off + 16 <= len(data):
                n, kind = struct.unpack_from("=IH", data, off)
                if n < 16:
                    break
                if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    self._packet(data[off + 20:off + n])
                off += (n + 3) & ~3

    def _packet(self, attrs):
        pid, payload, off, skbinfo = None, b"", 0, 0
        while off + 4 <= len(attrs):
            n, kind = struct.unpack_from("=HH", attrs, off)
            kind &= 0x7fff
            if kind == NFQA_PACKET_HDR:
                pid = struct.unpack_from("!I", attrs, off + 4)[0]
            elif kind == NFQA_PAYLOAD:
                payload = attrs[off + 4:off + n]
            elif kind == NFQA_SKB_INFO:
                skbinfo = struct.unpack_from("!I", attrs, off + 4)[0]
            off += (n + 3) & ~3
        if pid is None:
            return
        ihl = (payload[0] & 15) * 4
        sport, dport, sq, ak, doff_flags = struct.unpack_from("!HHIIH", payload, ihl)
        doff = (doff_flags >> 12) * 4
        tcp = dict(sport=sport, dport=dport, seq=sq, ack=ak, flags=doff_flags & 0x3f,
                   payload=payload[ihl + doff:])
        action, delay = self.decide(tcp)
        if action == "duplicate" and (skbinfo & NFQA_SKB_GSO or self.held):
            action = "accept"            # a GSO packet or one behind the delay line is not copied
        self.counts[action] = self.counts.get(action, 0) + 1
        t = time.monotonic() - self.lab.t0
        if self.log_all or action != "accept" or delay > 0:
            self.log.append(f"+{t:.3f}s {action} delay {delay:.3f}s: {sport}->{dport} flags 0x{tcp['flags']:02x} "
                            f"seq {sq} ack {ak} len {len(tcp['payload'])}")
        if action == "drop":
            self.verdict(pid, NF_DROP)
        elif action == "reorder":
            self.ooo_n += 1
            heapq.heappush(self.ooo, (time.monotonic() + delay, self.ooo_n, pid))
        elif action == "duplicate":
            self.verdict(pid, NF_ACCEPT)
            self._inject(payload, ihl, skbinfo & NFQA_SKB_CSUMNOTREADY)
        elif action == "hold":
            self.parked.append(pid)      # until release(); the packets after it go on
            self.parked_any = True
        elif delay > 0 or self.held:
            # a delay line keeps order: a packet behind a held one leaves after it
            release = time.monotonic() + delay
            if self.held:
                release = max(release, self.held[-1][0])
            self.held.append((release, pid))
        else:
            self.verdict(pid, NF_ACCEPT)

    def _inject(self, ip_packet, ihl, csum_partial):
        """A byte-identical copy of `ip_packet` into lo (Ethernet header of zeros, as lo has)."""
        if self.dup_sock is None:
            self.dup_sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)   # protocol 0: receives nothing
            self.dup_sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
            self.dup_sock.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, DUP_MARK)
        if csum_partial:
            vnet = struct.pack("<BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 14 + ihl, 16)
        else:
            vnet = struct.pack("<BBHHHH", 0, 0, 0, 0, 0, 0)
        self.dup_sock.sendto(vnet + b"\0" * 12 + b"\x08\x00" + ip_packet, (self.dup_ifname, 0x0800))

    def pending(self):
        """Packets still held by the verdict loop."""
        return len(self.held) + len(self.ooo) + len(self.parked)

    def release(self):
        """Lets the parked packets go now, in order (from the verdict thread)."""
        self.releasing = True

    def close(self):
        self.stopped = True
        self.thread.join(2)
        for pid in [pid for _, pid in self.held] + [x[2] for x in sorted(self.ooo)] + self.parked:
            self.verdict(pid, NF_ACCEPT)
        self.held, self.parked, self.ooo = [], [], []
        if self.dup_sock is not None:
            self.dup_sock.close()


TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10


def edit_capture(edit, path):
    """A capture defect made afterwards (the kernel's answer is unchanged): `drop-syn-ack` removes
    every SYN-ACK frame from a pcap of Ethernet (lo) frames."""
    if not edit:
        return
    if edit != "drop-syn-ack":
        raise RuntimeError(f"unknown capture edit {edit}")
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic not in (0xa1b2c3d4, 0xa1b23c4d):
        raise RuntimeError(f"{path}: not a little-endian pcap")
    if struct.unpack_from("<I", data, 20)[0] != 1:
        raise RuntimeError(f"{path}: link type is not Ethernet")
    out, off, dropped = [data[:24]], 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        rec = data[off:off + 16 + incl]
        frame = rec[16:]
        keep = True
        if len(frame) >= 14 + 20 and frame[12:14] == b"\x08\x00" and frame[14 + 9] == 6:
            ihl = (frame[14] & 15) * 4
            flags = frame[14 + ihl + 13]
            keep = (flags & (TCP_SYN | TCP_ACK)) != (TCP_SYN | TCP_ACK)
        if keep:
            out.append(rec)
        else:
            dropped += 1
        off += 16 + incl
    if dropped == 0:
        raise RuntimeError(f"{path}: no SYN-ACK to drop")
    with open(path, "wb") as f:
        f.write(b"".join(out))


# ---------------------------------------------------------------- the lab

class Lab:
    def __init__(self, name, workdir):
        self.name = name
        self.workdir = workdir
        i = info(name)
        self.n = i["index"]
        self.ports = i["ports"]
        self.srv = f"127.42.{self.n}.1"
        self.cli = f"127.42.{self.n}.2"
        self.port = self.ports[0]
        self.meta = dict(scenario=name, description="", expect=[], unrevealable=[], notes=[])
        self.keep = []          # sockets held open until stop
        self._tw = None         # the watch-time-wait process, when the scenario asked for one
        self._queues = []       # (NfQueue, iptables rule) to undo
        # one CPU: the two retransmission timers of the simultaneous scenarios are then armed on
        # the same CPU's timer base and expire in the same timer-softirq run
        self.cpus = os.sched_getaffinity(0)
        cpu = min(self.cpus)
        os.sched_setaffinity(0, {cpu})
        self.t0 = time.monotonic()
        self.nft("add table inet flowstate_lab\n"
                 "add chain inet flowstate_lab out { type filter hook output priority 0; policy accept; }\n"
                 "add chain inet flowstate_lab in { type filter hook input priority 0; policy accept; }\n",
                 record=False)

    # -- bookkeeping
    def describe(self, text):
        self.meta["description"] = text

    def note(self, text):
        self.meta["notes"].append(text)

    def expect(self, local, remote, state):
        self.meta["expect"].append(dict(kind="ss", local=local, remote=remote, state=state))

    def expect_count(self, state, count):
        self.meta["expect"].append(dict(kind="ss_count", state=state, count=count))

    def expect_transition(self, local, remote, frm, to):
        self.meta["expect"].append(dict(kind="transition", local=local, remote=remote, **{"from": frm, "to": to}))

    def expect_pcap(self, what, minimum=1, sender=None):
        self.meta["expect"].append(dict(kind="pcap", what=what, min=minimum, sender=sender))

    def unrevealable(self, local, remote, reason):
        self.meta["unrevealable"].append(dict(local=local, remote=remote, reason=reason))

    def hold(self, *socks):
        self.keep.extend(socks)
        return socks[0] if len(socks) == 1 else socks

    # -- nftables inside this namespace
    def nft(self, script, record=True):
        r = subprocess.run(["nft", "-f", "-"], input=script, text=True, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"nft failed: {r.stderr.strip()}\n{script}")
        if record:
            t = time.monotonic() - self.t0
            for line in script.strip().splitlines():
                self.note(f"nft at +{t:.3f}s: {line.strip()}")

    def drop_out(self, rule):
        self.nft(f"add rule inet flowstate_lab out {rule} drop")

    def drop_in(self, rule):
        self.nft(f"add rule inet flowstate_lab in {rule} drop")

    def nfqueue(self, rule, decide, num=0, **kw):
        """Queue the packets an iptables INPUT rule matches (after the capture point on lo) to
        a verdict loop in this process: `decide` drops, delays or holds each."""
        q = NfQueue(self, num, decide, **kw)
        spec = rule.split() + ["-j", "NFQUEUE", "--queue-num", str(num)]
        subprocess.run(["iptables", "-A", "INPUT"] + spec, check=True, capture_output=True)
        self.note(f"iptables at +{time.monotonic() - self.t0:.3f}s: -A INPUT {' '.join(spec)} "
                  "(a verdict loop in the socket program)")
        self._queues.append((q, spec))
        return q

    def close_queues(self):
        for q, spec in self._queues:
            q.close()
            subprocess.run(["iptables", "-D", "INPUT"] + spec, check=True, capture_output=True)
            for line in q.log:
                self.note(f"nfqueue {q.num}: {line}")
        self._queues = []

    def replace_out(self, *rules):
        """Atomically replace every output rule (one nft transaction)."""
        self.nft("flush chain inet flowstate_lab out\n" +
                 "".join(f"add rule inet flowstate_lab out {r} drop\n" for r in rules))

    # -- sockets
    def listener(self, addr=None, port=None, backlog=128, family=socket.AF_INET, rcvbuf=None):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((addr or self.srv, port or self.port))
        s.listen(backlog)
        s.settimeout(5)
        return self.hold(s)

    def client(self, src=None, port=0, family=socket.AF_INET, reuse=False, sndbuf=None):
        s = socket.socket(family, socket.SOCK_STREAM)
        if reuse:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if sndbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        if port == 0:
            # choose the port at connect() time, as modern clients do: this is
            # what makes the tracepoint's CLOSE -> SYN_SENT event show port 0
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((src or self.cli, port))
        s.settimeout(5)
        return self.hold(s)

    def connect_pair(self, lst, src=None, port=0, family=socket.AF_INET, **kw):
        c = self.client(src=src, port=port, family=family, **kw)
        c.connect(lst.getsockname()[:2])
        a, _ = lst.accept()
        a.settimeout(5)
        self.hold(a)
        return c, a

    def watch_time_wait(self, families=(socket.AF_INET,), interval=0.002):
        """Record every socket the kernel lists in TIME_WAIT from now until ready()
        (meta.json time_wait_seen), polled by a process on the other CPUs."""
        others = sorted(self.cpus - os.sched_getaffinity(0)) or sorted(self.cpus)
        self._tw_file = os.path.join(self.workdir, "time_wait_seen.json")
        self._tw_interval = interval
        self._tw = subprocess.Popen([sys.executable, os.path.abspath(__file__), "watch-time-wait",
                                     self._tw_file, ",".join(str(int(f)) for f in families),
                                     str(interval), ",".join(map(str, others))])

    def stop_time_wait_watch(self):
        """Stop the watch (ready() does it when the scenario has not): meta.json time_wait_seen."""
        if self._tw is None:
            return self.meta.get("time_wait_seen", [])
        self._tw.terminate()
        if self._tw.wait(10) != 0:
            raise RuntimeError(f"watch-time-wait exited with status {self._tw.returncode}")
        self._tw = None
        with open(self._tw_file) as f:
            w = json.load(f)
        seen = self.meta["time_wait_seen"] = w["seen"]
        self.note(f"time_wait_seen: {len(seen)} TIME_WAIT sockets listed by the kernel at some moment "
                  f"({len({(x['local'], x['remote']) for x in seen})} distinct), from {w['polls']} "
                  f"inet_diag dumps about every {self._tw_interval * 1000:g} ms plus the dump time "
                  f"(longest gap between two dumps {w['max_gap_ns'] / 1e6:.1f} ms).")
        return seen

    # -- end of the scenario
    def ready(self):
        self.close_queues()
        self.stop_time_wait_watch()
        with open(os.path.join(self.workdir, "meta.json"), "w") as f:
            json.dump(self.meta, f, indent=1)
        with open(os.path.join(self.workdir, "ready"), "w") as f:
            f.write("%.6f\n" % time.time())
        stop = os.path.join(self.workdir, "stop")
        end = time.monotonic() + HOLD_MAX
        while not os.path.exists(stop) and time.monotonic() < end:
            time.sleep(0.02)


def request_response(c, a, req=b"GET / HTTP/1.0\r\n\r\n", resp=b"HTTP/1.0 200 OK\r\n\r\nhello\n"):
    c.sendall(req)
    recv_exact(a, len(req))
    a.sendall(resp)
    recv_exact(c, len(resp))


# ---------------------------------------------------------------- scenarios

def client_close_flow(lab, family=socket.AF_INET, srv=None, cli=None):
    srv = srv or lab.srv
    cli = cli or lab.cli
    L = lab.listener(addr=srv, family=family)
    c, a = lab.connect_pair(L, src=cli, family=family)
    ce, se = sock_ep(c), sock_ep(a)
    request_response(c, a)
    close_in_turn(c, a)             # client FIN first; the server's FIN: LAST_ACK, then CLOSED on the client's ACK
    wait_state(ce, se, "TIME_WAIT")
    wait_gone(se, ce)
    lab.expect(ce, se, "TIME_WAIT")
    lab.expect(sock_ep(L), "0.0.0.0:*" if family == socket.AF_INET else "[::]:*", "LISTEN")
    lab.expect_transition(se, ce, "LAST_ACK", "CLOSED")
    return ce, se


def sc_client_close(lab):
    lab.describe("The client sends a request, reads the reply and closes first (FIN), the server "
                 "answers with its own FIN once it reads EOF; the client, having closed first, "
                 "sits in TIME_WAIT for 60 s, while the server left LAST_ACK for CLOSED on the "
                 "client's final ACK and only its LISTEN socket remains.")
    client_close_flow(lab)


def sc_server_close(lab):
    lab.describe("The server replies and closes first (HTTP/1.0 style); the client reads to EOF and "
                 "then closes, so the server, having closed first, holds TIME_WAIT while the client "
                 "went CLOSE_WAIT -> LAST_ACK -> CLOSED.")
    L = lab.listener()
    c, a = lab.connect_pair(L)
    ce, se = sock_ep(c), sock_ep(a)
    request_response(c, a)
    close_in_turn(a, c)             # server FIN first
    wait_state(se, ce, "TIME_WAIT")
    wait_gone(ce, se)
    lab.expect(se, ce, "TIME_WAIT")
    lab.expect(sock_ep(L), "0.0.0.0:*", "LISTEN")
    lab.expect_transition(ce, se, "LAST_ACK", "CLOSED")


def sc_close_wait_leak(lab):
    count = 20
    lab.describe(f"{count} connections where the server sends a short reply and closes, and the "
                 "client application reads the data and the EOF but never calls close(): every "
                 "client socket stays in CLOSE_WAIT (no timer ends it) and every server socket, "
                 "orphaned after its FIN was acknowledged, waits in FIN_WAIT2 for a FIN that "
                 "never comes (until tcp_fin_timeout, 60 s).")
    L = lab.listener()
    pairs = []
    for i in range(count):
        c, a = lab.connect_pair(L)
        c.sendall(b"req %d\n" % i)
        recv_exact(a, len(b"req %d\n" % i))
        a.sendall(b"bye\n")
        pairs.append((sock_ep(c), sock_ep(a)))
        a.close()                   # server closes: FIN, orphaned
        if recv_eof(c) != b"bye\n":
            raise RuntimeError("unexpected data")
        # the client keeps c open forever: the leak
    for ce, se in pairs:
        wait_state(ce, se, "CLOSE_WAIT")
        wait_state(se, ce, "FIN_WAIT2")
        lab.expect(ce, se, "CLOSE_WAIT")
        lab.expect(se, ce, "FIN_WAIT2")
    lab.expect_count("CLOSE_WAIT", count)
    lab.expect_count("FIN_WAIT2", count)


def sc_last_ack(lab):
    lab.describe("The client closes first and the server, on EOF, closes too, but nft drops every "
                 "client->server packet from that moment, so the client's ACK of the server's FIN "
                 "never reaches the capture point or the server: the server stays in LAST_ACK "
                 "retransmitting its FIN, and the client, which did receive that FIN, is in TIME_WAIT.")
    L = lab.listener()
    c, a = lab.connect_pair(L)
    ce, se = sock_ep(c), sock_ep(a)
    cport = c.getsockname()[1]
    request_response(c, a)
    c.close()
    if recv_eof(a) != b"":
        raise RuntimeError("unexpected data")
    wait_state(ce, se, "FIN_WAIT2")      # the server's ACK of the client's FIN has arrived
    lab.drop_out(f"ip saddr {lab.cli} ip daddr {lab.srv} tcp sport {cport} tcp dport {lab.port}")
    a.close()                            # server FIN -> LAST_ACK; the client's ACK is dropped
    wait_state(se, ce, "LAST_ACK")
    wait_state(ce, se, "TIME_WAIT")
    time.sleep(0.7)                      # let the server retransmit its FIN (RTO ~200 ms, doubling)
    wait_state(se, ce, "LAST_ACK")
    lab.expect(se, ce, "LAST_ACK")
    lab.expect(ce, se, "TIME_WAIT")
    lab.expect_pcap("retransmitted_fin", 1, sender=se)
    lab.unrevealable(ce, se, "every ACK the client sent for the server's FIN was dropped by nft before "
                     "the capture point; the wire shows that FIN retransmitted and never acknowledged, "
                     "which is what a FIN lost on its way to the client would look like too, so the wire "
                     "cannot tell TIME_WAIT (the truth: the FIN arrived) from FIN_WAIT2 (it did not)")


def sc_fin_wait1(lab):
    lab.describe("After a request/response the client closes, but nft drops every server->client "
                 "packet from that moment, so the server's ACK of the client's FIN is never seen: "
                 "the client stays in FIN_WAIT1 retransmitting its FIN while the server, which did "
                 "receive the FIN, sits in CLOSE_WAIT because its application never closes.")
    L = lab.listener()
    c, a = lab.connect_pair(L)
    ce, se = sock_ep(c), sock_ep(a)
    cport = c.getsockname()[1]
    request_response(c, a)
    lab.drop_out(f"ip saddr {lab.srv} ip daddr {lab.cli} tcp sport {lab.port} tcp dport {cport}")
    c.close()
    wait_state(se, ce, "CLOSE_WAIT")
    time.sleep(0.7)                      # FIN retransmissions (RTO ~200 ms, doubling)
    wait_state(ce, se, "FIN_WAIT1")
    lab.expect(ce, se, "FIN_WAIT1")
    lab.expect(se, ce, "CLOSE_WAIT")
    lab.expect_pcap("retransmitted_fin", 1, sender=ce)
    lab.unrevealable(se, ce, "the server's ACKs of the client's FIN were dropped by nft before the capture "
                     "point; the wire shows an unacknowledged, retransmitted FIN, exactly what a FIN lost "
                     "before reaching the server would look like, so the wire cannot tell CLOSE_WAIT (the "
                     "truth) from ESTABLISHED")


def simultaneous_close(lab, hold_closing):
    L = lab.listener()
    c, a = lab.connect_pair(L)
    ce, se = sock_ep(c), sock_ep(a)
    request_response(c, a)
    subnet = f"127.42.{lab.n}.0/24"
    # stage 1: nothing gets out, so both FINs are queued but neither is delivered
    lab.drop_out(f"ip saddr {subnet} ip daddr {subnet}")
    c.close()
    a.close()
    wait_state(ce, se, "FIN_WAIT1")
    wait_state(se, ce, "FIN_WAIT1")
    if hold_closing:
        # stage 2: FIN segments pass, pure ACKs do not.  Both retransmission timers were armed
        # microseconds apart and expire in the same timer-softirq run, so both retransmitted FINs
        # leave before either is processed: the FINs cross on the wire and both ends go CLOSING;
        # the ACKs of the FINs are dropped, so both stay there.
        lab.replace_out(f"ip saddr {subnet} ip daddr {subnet} tcp flags & fin == 0")
        wait_state(ce, se, "CLOSING", timeout=3)
        wait_state(se, ce, "CLOSING", timeout=3)
        # stage 3: drop everything again.  A FIN retransmitted in CLOSING carries an ACK of the
        # peer's FIN, which would take the peer to TIME_WAIT; so from now on nothing gets out.
        lab.replace_out(f"ip saddr {subnet} ip daddr {subnet}")
        time.sleep(0.5)                  # FIN retransmissions in CLOSING, all dropped
        wait_state(ce, se, "CLOSING")
        wait_state(se, ce, "CLOSING")
        lab.expect(ce, se, "CLOSING")
        lab.expect(se, ce, "CLOSING")
    else:
        # stage 2: everything passes again; the two retransmitted FINs leave in the same
        # timer-softirq run, cross, both ends go CLOSING and the ACKs take both to TIME_WAIT
        lab.replace_out()
        wait_state(ce, se, "TIME_WAIT", timeout=3)
        wait_state(se, ce, "TIME_WAIT", timeout=3)
        lab.expect(ce, se, "TIME_WAIT")
        lab.expect(se, ce, "TIME_WAIT")
    lab.expect_transition(ce, se, "FIN_WAIT1", "CLOSING")
    lab.expect_transition(se, ce, "FIN_WAIT1", "CLOSING")
    lab.note("The first FIN of each side was dropped by nft before the capture point (stage 1); the "
             "FINs in the capture are the kernel's retransmissions, sent by both sides in the same "
             "timer run so that neither had the other's FIN when it sent its own (their ACK fields "
             "prove it).")


def sc_simultaneous_close_closing(lab):
    lab.describe("Both ends close at once: their FINs cross on the wire (each FIN's ACK field does not "
                 "cover the other's FIN), so both go FIN_WAIT1 -> CLOSING; nft drops the ACKs of the "
                 "FINs and then every later segment (a FIN retransmitted in CLOSING would carry that "
                 "ACK), so both ends stay in CLOSING, retransmitting FINs that never get out.")
    simultaneous_close(lab, hold_closing=True)


def sc_simultaneous_close_time_wait(lab):
    lab.describe("Both ends close at once: their FINs cross on the wire, both go FIN_WAIT1 -> CLOSING, "
                 "and each one's ACK of the other's FIN takes both to TIME_WAIT (a simultaneous close "
                 "leaves TIME_WAIT on both ends).")
    simultaneous_close(lab, hold_closing=False)


def sc_simultaneous_open(lab):
    lab.describe("Two sockets bound to fixed ports connect to each other at the same time: their SYNs "
                 "cross on the wire (both bare SYNs), each answers the other's SYN with a SYN-ACK "
                 "(SYN_SENT -> SYN_RECV), and each SYN-ACK takes its receiver to ESTABLISHED; no "
                 "listener is involved.")
    A = (lab.srv, lab.ports[0])
    B = (lab.cli, lab.ports[1])
    sa = lab.client(src=A[0], port=A[1], reuse=True)
    sb = lab.client(src=B[0], port=B[1], reuse=True)
    subnet = f"127.42.{lab.n}.0/24"
    # stage 1: the first SYNs are dropped before capture (else the first one would meet a socket
    # that is not yet connecting and be answered by RST)
    lab.drop_out(f"ip saddr {subnet} ip daddr {subnet} tcp flags & syn == syn")
    for s, dst in ((sa, B), (sb, A)):
        s.setblocking(False)
        err = s.connect_ex(dst)
        if err != errno.EINPROGRESS:
            raise RuntimeError(f"connect_ex: {errno.errorcode.get(err, err)}")
    ea, eb = ep(*A), ep(*B)
    wait_state(ea, eb, "SYN_SENT")
    wait_state(eb, ea, "SYN_SENT")
    # stage 2: both SYN retransmission timers (armed microseconds apart) expire in the same
    # timer-softirq run (~1 s later), so both SYNs leave before either is processed: they cross.
    lab.replace_out()
    wait_state(ea, eb, "ESTABLISHED", timeout=4)
    wait_state(eb, ea, "ESTABLISHED", timeout=4)
    for s in (sa, sb):
        s.setblocking(True)
        s.settimeout(5)
    sa.sendall(b"hello from a\n")
    recv_exact(sb, 13)
    sb.sendall(b"hello from b\n")
    recv_exact(sa, 13)
    lab.expect(ea, eb, "ESTABLISHED")
    lab.expect(eb, ea, "ESTABLISHED")
    lab.expect_transition(ea, eb, "SYN_SENT", "SYN_RECV")
    lab.expect_transition(eb, ea, "SYN_SENT", "SYN_RECV")
    lab.note("Each socket's first SYN was dropped by nft before the capture point; the captured SYNs "
             "are the 1 s retransmissions, which both sockets sent in the same timer run.")
    lab.note("Each side's SYN-ACK reaches the other in SYN_RECV; Linux answers it with an extra ACK "
             "carrying a D-SACK block for the already-received SYN (visible in the capture).")


def sc_syn_sent(lab):
    lab.describe("Two clients whose SYNs are never answered, both in SYN_SENT with the SYN retransmitted "
                 "every second: the first targets a real listener whose SYN-ACKs nft drops before "
                 "the capture point (the server holds a half-open SYN_RECV request that the wire never "
                 "shows), the second targets a port with no listener whose incoming SYNs nft silently "
                 "drops at input (after the capture point), so nothing answers at all.")
    L = lab.listener()
    p2 = lab.ports[1]
    lab.drop_out(f"ip saddr {lab.srv} tcp sport {lab.port} tcp flags & (syn | ack) == syn | ack")
    lab.drop_in(f"ip daddr {lab.srv} tcp dport {p2}")
    c1 = lab.client()
    c2 = lab.client()
    for c, p in ((c1, lab.port), (c2, p2)):
        c.setblocking(False)
        err = c.connect_ex((lab.srv, p))
        if err != errno.EINPROGRESS:
            raise RuntimeError(f"connect_ex: {errno.errorcode.get(err, err)}")
    e1, e2 = sock_ep(c1), sock_ep(c2)
    s1, s2 = ep(lab.srv, lab.port), ep(lab.srv, p2)
    wait_state(e1, s1, "SYN_SENT")
    wait_state(e2, s2, "SYN_SENT")
    wait_state(s1, e1, "SYN_RECV")
    time.sleep(2.3)                      # SYN retransmissions at ~1 s and ~2 s
    try:
        with open("/proc/sys/net/ipv4/tcp_syn_linear_timeouts") as f:
            lin = int(f.read())
        lab.note(f"net.ipv4.tcp_syn_linear_timeouts={lin}: the first {lin} SYN retransmissions come at "
                 "a fixed 1 s interval, not the classic doubling 1, 3, 7 s.")
    except OSError:
        pass
    for c in (c1, c2):
        if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
            raise RuntimeError("client connect failed early")
    lab.expect(e1, s1, "SYN_SENT")
    lab.expect(e2, s2, "SYN_SENT")
    lab.expect(s1, e1, "SYN_RECV")
    lab.expect(sock_ep(L), "0.0.0.0:*", "LISTEN")
    lab.expect_pcap("retransmitted_syn", 2, sender=e1)
    lab.expect_pcap("retransmitted_syn", 2, sender=e2)
    lab.unrevealable(s1, e1, "the listener did receive the SYN and holds a half-open request (SYN_RECV, "
                     "retransmitting SYN-ACKs), but every SYN-ACK was dropped by nft before the capture "
                     "point, so a wire observer cannot know the server is in SYN_RECV; the kernel's "
                     "tracepoint does not show it either (half-open requests emit no event)")
    lab.unrevealable(s2, e2, "no socket at all (CLOSED, nothing listens on this port): the SYNs were "
                     "captured and then silently dropped at input, so the wire shows the same "
                     "unanswered SYNs as for the first client and cannot tell a listener whose "
                     "answers are lost from a port where nothing listens")


def sc_syn_recv(lab):
    lab.describe("The client's final ACK of the handshake (and every later client->server ACK) is "
                 "dropped by nft before the capture point: the server's request stays SYN_RECV, "
                 "retransmitting its SYN-ACK, while the client, which did get the SYN-ACK, is "
                 "ESTABLISHED and sends nothing else.")
    L = lab.listener()
    lab.drop_out(f"ip saddr {lab.cli} ip daddr {lab.srv} tcp dport {lab.port} "
                 "tcp flags & (syn | fin | rst) == 0")
    c = lab.client()
    c.connect((lab.srv, lab.port))       # returns when the SYN-ACK arrives
    ce, se = sock_ep(c), ep(lab.srv, lab.port)
    wait_state(se, ce, "SYN_RECV")
    time.sleep(1.3)                      # one SYN-ACK retransmission at ~1 s
    wait_state(se, ce, "SYN_RECV")
    lab.expect(se, ce, "SYN_RECV")
    lab.expect(ce, se, "ESTABLISHED")
    lab.expect(sock_ep(L), "0.0.0.0:*", "LISTEN")
    lab.expect_pcap("retransmitted_synack", 1, sender=se)
    lab.unrevealable(ce, se, "the client received the SYN-ACK and is ESTABLISHED, but its ACKs were "
                     "dropped by nft before the capture point; the wire shows only a SYN-ACK "
                     "retransmitted without answer, which a SYN-ACK lost before the client would also "
                     "produce (client still SYN_SENT)")
    lab.note("The server's half-open request (SYN_RECV in ss) produces no inet_sock_set_state event: "
             "the tracepoint only fires for full sockets, so the trace shows the listener and the "
             "client only.")


def sc_syn_flood(lab):
    count = 200
    nsrc = 50
    lab.describe(f"A half-open flood: {count} clients from {nsrc} source addresses (127.42.{lab.n}.10-"
                 f"{9 + nsrc}) connect to one listener with SYN cookies off; nft drops every "
                 "client->server ACK before the capture point, so each server request stays SYN_RECV "
                 "(SYN, SYN-ACK and its retransmission, no final ACK) while each client, which did "
                 "receive the SYN-ACK, is ESTABLISHED.")
    sysctl("net.ipv4.tcp_syncookies", 0)
    sysctl("net.ipv4.tcp_max_syn_backlog", 4096)
    lab.note("Inside the namespace: net.ipv4.tcp_syncookies=0, net.ipv4.tcp_max_syn_backlog=4096; "
             "listen backlog 1024.")
    L = lab.listener(backlog=1024)
    lab.drop_out(f"ip daddr {lab.srv} tcp dport {lab.port} tcp flags & (syn | fin | rst) == 0")
    clients = []
    for i in range(count):
        c = lab.client(src=f"127.42.{lab.n}.{10 + i % nsrc}")
        c.setblocking(False)
        err = c.connect_ex((lab.srv, lab.port))
        if err not in (0, errno.EINPROGRESS):
            raise RuntimeError(f"connect_ex: {errno.errorcode.get(err, err)}")
        clients.append(c)
    pending = list(clients)
    end = time.monotonic() + 5
    while pending and time.monotonic() < end:
        _, w, _ = select.select([], pending, [], 0.5)
        pending = [c for c in pending if c not in w]
    if pending:
        raise RuntimeError(f"{len(pending)} clients never connected")
    for c in clients:
        if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            raise RuntimeError("a client failed")
    se = ep(lab.srv, lab.port)
    wait_for(lambda: sum(1 for l, r, s in proc_sockets() if l == se and s == "SYN_RECV") == count,
             5, f"{count} SYN_RECV requests")
    time.sleep(1.3)                      # one round of SYN-ACK retransmissions at ~1 s
    for c in clients:
        ce = sock_ep(c)
        lab.expect(se, ce, "SYN_RECV")
        lab.expect(ce, se, "ESTABLISHED")
        lab.unrevealable(ce, se, "ESTABLISHED, but its ACKs were dropped before the capture point: the "
                         "wire shows only unanswered SYN-ACKs, as if they were lost (client SYN_SENT)")
    lab.expect_count("SYN_RECV", count)
    lab.expect_count("ESTABLISHED", count)
    lab.note("Half-open requests emit no tracepoint event: the trace shows the clients' "
             "CLOSE -> SYN_SENT -> ESTABLISHED and the listener only.")


def sc_rst_abort_linger(lab):
    lab.describe("The client sends 2000 bytes (acknowledged), then nft starts dropping every "
                 "server->client packet and the client sends 3000 more bytes that the server receives "
                 "but whose ACKs never come back; the client then closes with SO_LINGER {1,0}, which "
                 "sends an RST instead of a FIN with that data still unacknowledged, and the RST takes "
                 "the server (whose application had not read yet) straight to CLOSED: both ends "
                 "CLOSED, no TIME_WAIT anywhere.")
    L = lab.listener()
    c, a = lab.connect_pair(L)
    ce, se = sock_ep(c), sock_ep(a)
    cport = c.getsockname()[1]
    c.sendall(b"a" * 2000)
    wait_for(lambda: outq(c) == 0, 3, "the first 2000 bytes to be acknowledged")
    lab.drop_out(f"ip saddr {lab.srv} ip daddr {lab.cli} tcp sport {lab.port} tcp dport {cport}")
    c.sendall(b"b" * 3000)
    wait_for(lambda: outq(c) == 3000, 1, "3000 unacknowledged bytes")
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()                            # abortive close: RST
    wait_gone(se, ce)
    wait_gone(ce, se)
    got = 0
    try:
        for _ in range(100):
            chunk = a.recv(65536)
            if not chunk:
                raise RuntimeError("server read EOF instead of ECONNRESET")
            got += len(chunk)
        raise RuntimeError("server never saw the RST")
    except ConnectionResetError:
        pass
    if got != 5000:
        raise RuntimeError(f"server read {got} bytes before ECONNRESET, expected 5000")
    lab.expect(sock_ep(L), "0.0.0.0:*", "LISTEN")
    lab.expect_count("ESTABLISHED", 0)
    lab.expect_transition(ce, se, "ESTABLISHED", "CLOSED")
    lab.expect_transition(se, ce, "ESTABLISHED", "CLOSED")
    lab.expect_pcap("rst", 1, sender=ce)
    lab.note("After the RST the server's application could still read the 5000 bytes that had "
             "reached its receive queue and then got ECONNRESET; the client's application lost its "
             "3000 unacknowledged bytes (close() discarded them).  On the wire those 3000 bytes are "
             "never acknowledged, so an observer cannot tell whether they reached the server.")


def sc_refused(lab):
    lab.describe("The client connects to a port where nothing listens; the kernel answers the SYN with "
                 "RST+ACK, connect() fails with ECONNREFUSED and the client socket goes SYN_SENT -> "
                 "CLOSED; there is no socket on the server side at all.")
    c = lab.client()
    try:
        c.connect((lab.srv, lab.port))
        raise RuntimeError("connect succeeded")
    except ConnectionRefusedError:
        pass
    lab.expect_count("ESTABLISHED", 0)
    lab.expect_pcap("rst", 1, sender=ep(lab.srv, lab.port))
    lab.note("ss shows nothing: a refused client socket is CLOSED (unbound again) and the server "
             "side never had a socket.  The SYN_SENT -> CLOSED event is the only place the client's "
             "port appears, so the port-0 CLOSE -> SYN_SENT event takes its port from it.")
    lab.expect_transition(None, ep(lab.srv, lab.port), "SYN_SENT", "CLOSED")


def set_keepalive(s, idle, intvl, cnt):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)


def sc_keepalive(lab):
    lab.describe("Two idle connections whose clients enable keepalive (TCP_KEEPIDLE=1, "
                 "TCP_KEEPINTVL=1): on the first the server answers every probe (a zero-length segment "
                 "at seq = next-1) so both ends stay ESTABLISHED; on the second nft drops everything "
                 "the server sends, the probes go unanswered, and after TCP_KEEPCNT=2 unanswered probes "
                 "the client gives up with an RST (ETIMEDOUT), which takes the still-alive server to "
                 "CLOSED as well.")
    L = lab.listener()
    c1, a1 = lab.connect_pair(L)
    c2, a2 = lab.connect_pair(L)
    e1c, e1s, e2c, e2s = sock_ep(c1), sock_ep(a1), sock_ep(c2), sock_ep(a2)
    request_response(c1, a1)
    request_response(c2, a2)
    lab.drop_out(f"ip saddr {lab.srv} ip daddr {lab.cli} tcp sport {lab.port} "
                 f"tcp dport {c2.getsockname()[1]}")
    t0 = time.monotonic()
    set_keepalive(c1, 1, 1, 3)
    set_keepalive(c2, 1, 1, 2)
    r, _, _ = select.select([c2], [], [], 6)
    if not r:
        raise RuntimeError("keepalive never timed out")
    err = c2.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err != errno.ETIMEDOUT:
        raise RuntimeError(f"expected ETIMEDOUT, got {errno.errorcode.get(err, err)}")
    wait_gone(e2s, e2c)
    left = 3.3 - (time.monotonic() - t0)
    if left > 0:
        time.sleep(left)                 # first connection: answered probes at ~1, 2, 3 s
    lab.expect(e1c, e1s, "ESTABLISHED")
    lab.expect(e1s, e1c, "ESTABLISHED")
    lab.expect_transition(e2c, e2s, "ESTABLISHED", "CLOSED")
    lab.expect_transition(e2s, e2c, "ESTABLISHED", "CLOSED")
    lab.expect_pcap("probe", 3, sender=e1c)
    lab.expect_pcap("probe", 2, sender=e2c)
    lab.expect_pcap("rst", 1, sender=e2c)
    lab.note("On the second connection the server was alive and did answer each probe; its ACKs were "
             "dropped by nft before the capture point, so on the wire it looks like a dead peer.")


def sc_zero_window(lab):
    lab.describe("The server accepts with a tiny receive buffer (SO_RCVBUF=4096) and never reads; the "
                 "client writes until its small send buffer is full, the server's advertised window "
                 "shrinks to 0, and the client sends zero-window (persist) probes that the server "
                 "answers with window 0; both ends stay ESTABLISHED.")
    L = lab.listener(rcvbuf=4096)
    c = lab.client(sndbuf=16384)
    c.connect((lab.srv, lab.port))
    a, _ = L.accept()
    lab.hold(a)
    ce, se = sock_ep(c), sock_ep(a)
    c.setblocking(False)
    sent = 0
    for _ in range(1000):
        try:
            sent += c.send(b"z" * 4096)
        except BlockingIOError:
            break
    lab.note(f"The client queued {sent} bytes before its send buffer was full; "
             "the server application never reads.  Capture snaplen 200.")
    time.sleep(2.5)                      # persist probes: backoff from ~200 ms, doubling
    lab.expect(ce, se, "ESTABLISHED")
    lab.expect(se, ce, "ESTABLISHED")
    lab.expect_pcap("zero_window", 1, sender=se)
    lab.expect_pcap("probe", 2, sender=ce)
    lab.note("A zero-window probe is a zero-length segment at seq = SND.UNA-1, which the receiver "
             "answers with a duplicate ACK (window 0) at most once per net.ipv4.tcp_invalid_ratelimit "
             "(500 ms): a probe sent sooner after the previous answer gets no reply at all, although "
             "the receiver is alive.")


def sc_port_reuse(lab):
    lab.describe("Two reuses of a 4-tuple still in TIME_WAIT: client port 40001 closes first (client "
                 "TIME_WAIT), then after 1.1 s a new socket bound to the same port with SO_REUSEADDR "
                 "connects to the same server and Linux reuses the TIME_WAIT tuple (tcp_tw_reuse=2, "
                 "loopback); client port 40002 lets the server close first (server TIME_WAIT) and at "
                 "once connects again from the same port, and the server accepts the new SYN because "
                 "its sequence number and timestamp are higher.  Both second instances end "
                 "ESTABLISHED; the TIME_WAIT entries were replaced.")
    L = lab.listener()
    se = ep(lab.srv, lab.port)
    # variant A: client-side TIME_WAIT, reused by connect() after tcp_tw_reuse_delay
    c, a = lab.connect_pair(L, port=40001, reuse=True)
    ca = sock_ep(c)
    request_response(c, a)
    close_in_turn(c, a)
    wait_state(ca, se, "TIME_WAIT")
    t_tw = time.monotonic()
    # variant B: server-side TIME_WAIT, new SYN accepted by the timewait socket
    c, a = lab.connect_pair(L, port=40002, reuse=True)
    cb = sock_ep(c)
    request_response(c, a)
    close_in_turn(a, c)
    wait_state(se, cb, "TIME_WAIT")
    wait_gone(cb, se)
    c, a = lab.connect_pair(L, port=40002, reuse=True)
    request_response(c, a, req=b"again\n", resp=b"ok\n")
    # back to A: tcp_tw_reuse needs the TIME_WAIT entry to be older than tcp_tw_reuse_delay (1 s)
    left = 1.1 - (time.monotonic() - t_tw)
    if left > 0:
        time.sleep(left)
    c, a = lab.connect_pair(L, port=40001, reuse=True)
    request_response(c, a, req=b"again\n", resp=b"ok\n")
    for ce in (ca, cb):
        lab.expect(ce, se, "ESTABLISHED")
        lab.expect(se, ce, "ESTABLISHED")
    lab.expect_count("TIME_WAIT", 0)
    lab.note("A timewait socket that is reused disappears without a tracepoint event (it is not a "
             "full socket); the trace shows the second instances' CLOSE -> SYN_SENT -> ESTABLISHED "
             "and LISTEN -> SYN_RECV -> ESTABLISHED only.")


def sc_midstream(lab):
    lab.describe("The capture starts only after the handshake and a first request/response: the "
                 "capture shows more data both ways, then the client closes first (client TIME_WAIT, "
                 "server LAST_ACK -> CLOSED); the trace still has the handshake transitions the "
                 "capture lacks.")
    L = lab.listener()
    c, a = lab.connect_pair(L)
    ce, se = sock_ep(c), sock_ep(a)
    request_response(c, a)
    with open(os.path.join(lab.workdir, "established"), "w") as f:
        f.write("1\n")
    wait_for(lambda: os.path.exists(os.path.join(lab.workdir, "go")), 30, "run.sh to start the capture")
    for i in range(3):
        request_response(c, a, req=b"more %d\n" % i, resp=b"data %d\n" % i)
    close_in_turn(c, a)
    wait_state(ce, se, "TIME_WAIT")
    wait_gone(se, ce)
    lab.expect(ce, se, "TIME_WAIT")
    lab.expect(sock_ep(L), "0.0.0.0:*", "LISTEN")
    lab.note("Without the handshake a wire observer starts both ends ESTABLISHED (inferred) and can "
             "only guess the roles (port 8080 < the client's ephemeral port).")


def sc_half_close(lab):
    lab.describe("The client sends its request and half-closes with shutdown(SHUT_WR) (FIN_WAIT1 -> "
                 "FIN_WAIT2); the server, in CLOSE_WAIT, keeps sending five chunks of data 50 ms apart "
                 "that the half-closed client still reads, then closes; the client ends in TIME_WAIT "
                 "and the server went LAST_ACK -> CLOSED.")
    L = lab.listener()
    c, a = lab.connect_pair(L)
    ce, se = sock_ep(c), sock_ep(a)
    c.sendall(b"upload then half-close\n")
    c.shutdown(socket.SHUT_WR)
    data = recv_eof(a)
    if data != b"upload then half-close\n":
        raise RuntimeError("bad request")
    wait_state(ce, se, "FIN_WAIT2")
    wait_state(se, ce, "CLOSE_WAIT")
    got = b""
    for i in range(5):
        chunk = b"chunk %d of the reply\n" % i
        a.sendall(chunk)
        got += recv_exact(c, len(chunk))
        time.sleep(0.05)
    close_in_turn(a, c)
    wait_state(ce, se, "TIME_WAIT")
    wait_gone(se, ce)
    lab.expect(ce, se, "TIME_WAIT")
    lab.expect(sock_ep(L), "0.0.0.0:*", "LISTEN")
    lab.expect_transition(ce, se, "FIN_WAIT1", "FIN_WAIT2")


def sc_ipv6(lab):
    lab.describe("The client-close exchange over IPv6 loopback ([::1], server port 8086): the client "
                 "closes first and holds TIME_WAIT, the server went LAST_ACK -> CLOSED and only its "
                 "LISTEN socket remains.")
    client_close_flow(lab, family=socket.AF_INET6, srv="::1", cli="::1")


def sc_many_short(lab):
    count = 210
    lab.describe(f"{count} short request/response connections in a row with mixed endings: every third "
                 "one the client closes first (client TIME_WAIT), every third the server closes first "
                 "(server TIME_WAIT), every third the client aborts with SO_LINGER {1,0} after the "
                 "reply (RST, both ends CLOSED, no TIME_WAIT).")
    L = lab.listener(backlog=512)
    se = ep(lab.srv, lab.port)
    kinds = {"client-first": [], "server-first": [], "rst": []}
    for i in range(count):
        c, a = lab.connect_pair(L)
        ce = sock_ep(c)
        request_response(c, a, req=b"req %d\n" % i, resp=b"resp %d\n" % i)
        mode = ("client-first", "server-first", "rst")[i % 3]
        kinds[mode].append(ce)
        if mode == "client-first":
            close_in_turn(c, a)
        elif mode == "server-first":
            close_in_turn(a, c)
        else:
            abort(c, a)
        lab.keep.remove(c)
        lab.keep.remove(a)

    def settled():
        st = {(l, r): s for l, r, s in proc_sockets()}
        return (all(st.get((ce, se)) == "TIME_WAIT" for ce in kinds["client-first"]) and
                all(st.get((se, ce)) == "TIME_WAIT" for ce in kinds["server-first"]) and
                sum(1 for s in st.values() if s != "TIME_WAIT" and s != "LISTEN") == 0)
    wait_for(settled, 5, "all connections to settle")
    for ce in kinds["client-first"]:
        lab.expect(ce, se, "TIME_WAIT")
    for ce in kinds["server-first"]:
        lab.expect(se, ce, "TIME_WAIT")
    lab.expect_count("TIME_WAIT", len(kinds["client-first"]) + len(kinds["server-first"]))
    lab.expect_count("LISTEN", 1)
    lab.meta["many_short_modes"] = {k: len(v) for k, v in kinds.items()}
    lab.note(f"Connection i (0-based, in connect order) ends client-first if i % 3 == 0, server-first "
             f"if i % 3 == 1, RST if i % 3 == 2.")


def sc_any_interface(lab):
    lab.describe("The client-close exchange captured with `tcpdump -i any` (Linux cooked capture v2, "
                 "LINKTYPE_LINUX_SLL2 = 276): the client closes first and holds TIME_WAIT, the server "
                 "went LAST_ACK -> CLOSED.")
    client_close_flow(lab)


def sc_pcapng(lab):
    lab.describe("The client-close exchange written as pcapng by dumpcap on lo: the client closes first "
                 "and holds TIME_WAIT, the server went LAST_ACK -> CLOSED.")
    client_close_flow(lab)


def sc_crossing_fins_delayed(lab):
    lab.describe("The client closes first, but every client->server packet from its FIN on waits 0.6 s "
                 "in a delay line (NFQUEUE after the capture point): the client resends its FIN while the "
                 "first is still on its way, and the server, which has not had it, closes too. Its FIN's "
                 "ACK does not cover the client's FIN, so the FINs crossed: both ends go FIN_WAIT1 -> "
                 "CLOSING -> TIME_WAIT, although the client's FIN was on the wire (twice) long before.")
    L = lab.listener()
    c, a = lab.connect_pair(L)
    ce, se = sock_ep(c), sock_ep(a)
    request_response(c, a)
    first_fin = []

    def decide(tcp):
        if tcp["flags"] & TCP_FIN and not first_fin:
            first_fin.append(time.monotonic())
        if first_fin and time.monotonic() < first_fin[0] + 0.6:
            return "accept", first_fin[0] + 0.6 - time.monotonic()
        return "accept", 0.0

    lab.nfqueue(f"-p tcp -s {lab.cli} -d {lab.srv} --dport {lab.port}", decide)
    c.close()                            # FIN: captured, then delayed
    wait_state(ce, se, "FIN_WAIT1")
    time.sleep(0.35)                     # the client resends its FIN (RTO 200 ms) before the server closes
    if state_of(se, ce) != "ESTABLISHED":
        raise RuntimeError(f"the server had the client's FIN too early: {state_of(se, ce)}")
    a.close()                            # the server's FIN: its ACK does not cover the client's FIN
    wait_state(ce, se, "TIME_WAIT", timeout=3)
    wait_state(se, ce, "TIME_WAIT", timeout=3)
    lab.expect(ce, se, "TIME_WAIT")
    lab.expect(se, ce, "TIME_WAIT")
    lab.expect_transition(ce, se, "FIN_WAIT1", "CLOSING")
    lab.expect_transition(se, ce, "FIN_WAIT1", "CLOSING")
    lab.expect_pcap("retransmitted_fin", 1, sender=ce)


def sc_time_wait_stale_rst(lab):
    lab.describe("After a request/response the client's ACK of the response is held back (NFQUEUE after "
                 "the capture point) while the client closes first and the server closes too: the client "
                 "is in TIME_WAIT, the server CLOSED. The old ACK is then let go; with no socket left, the "
                 "server answers it with an RST whose sequence number is that ACK's, one below what the "
                 "client's TIME_WAIT expects (the server's FIN + 1). Linux ignores it: TIME_WAIT goes on.")
    L = lab.listener()
    pure_acks = []

    def decide(tcp):
        if tcp["flags"] & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK) == TCP_ACK and not tcp["payload"]:
            pure_acks.append(tcp["ack"])
            if len(pure_acks) == 2:      # the first is the handshake's; the second acknowledges the response
                return "hold", 0.0
        return "accept", 0.0

    q = lab.nfqueue(f"-p tcp -s {lab.cli} -d {lab.srv} --dport {lab.port}", decide)
    c, a = lab.connect_pair(L)
    ce, se = sock_ep(c), sock_ep(a)
    request_response(c, a)
    wait_for(lambda: len(pure_acks) >= 2, 2, "the client's ACK of the response")
    close_in_turn(c, a)
    wait_state(ce, se, "TIME_WAIT")
    wait_gone(se, ce)
    q.release()                          # the stale ACK reaches a server with no socket: RST
    wait_for(lambda: not q.parked, 2, "the held ACK to be let go")
    time.sleep(0.3)
    wait_state(ce, se, "TIME_WAIT")
    lab.expect(ce, se, "TIME_WAIT")
    lab.expect(sock_ep(L), "0.0.0.0:*", "LISTEN")
    lab.expect_transition(se, ce, "LAST_ACK", "CLOSED")
    lab.expect_pcap("rst", 1, sender=se)
    lab.note(f"net.ipv4.tcp_rfc1337={open('/proc/sys/net/ipv4/tcp_rfc1337').read().strip()}: a timewait socket "
             "takes an RST only at exactly its RCV.NXT (tcp_timewait_state_process).")


def sc_syn_ack_not_captured(lab):
    lab.describe("The client-close exchange with its SYN-ACK removed from the capture afterwards (a capture "
                 "defect: the kernel's answer is unchanged): the client's ACK, request, both FINs and the "
                 "last ACK prove the handshake; the client ends in TIME_WAIT, the server LAST_ACK -> CLOSED.")
    client_close_flow(lab)
    lab.note("The SYN-ACK frame was removed from the finished capture by 'scenarios.py edit' (drop-syn-ack).")


def sc_fin_behind_hole(lab):
    lab.describe("The client sends two 100-byte segments A and B+FIN; nft drops every copy of A at "
                 "input (after the capture point), so the server has B and the FIN out of order behind a "
                 "hole: it stays ESTABLISHED (a FIN is taken only in sequence), acknowledging the hole's "
                 "start, while the client stays in FIN_WAIT1 resending A.")
    L = lab.listener()
    c, a = lab.connect_pair(L)
    ce, se = sock_ep(c), sock_ep(a)
    cport = c.getsockname()[1]
    request_response(c, a)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # A's payload starts 32 bytes into the TCP header (20 + 12 of timestamps)
    lab.drop_in(f"ip saddr {lab.cli} ip daddr {lab.srv} tcp sport {cport} tcp dport {lab.port} "
                "@th,256,64 0x4141414141414141")
    c.send(b"A" * 100)
    # B corked, so that close() puts the FIN on it: one segment B+FIN leaves before the server's
    # duplicate ACK puts the client in recovery (which would hold a FIN sent after it)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    c.send(b"B" * 100)
    c.close()
    wait_state(ce, se, "FIN_WAIT1")
    time.sleep(1.0)                      # A resent (and dropped) a few times
    wait_state(ce, se, "FIN_WAIT1")
    wait_state(se, ce, "ESTABLISHED")
    lab.expect(ce, se, "FIN_WAIT1")
    lab.expect(se, ce, "ESTABLISHED")


LOSSY_SEED = 29
LOSSY_MODES = (["client-first"] * 70 + ["server-first"] * 70 + ["open"] * 20 + ["half-close"] * 20 +
               ["server-leak"] * 20)
# per mode: the states each end may end in (None: no socket). A late segment (reordered or
# duplicated) can reach a TIME_WAIT end, whose ACK of it then meets a peer whose socket is already
# gone (or the late segment meets that peer directly); the peer's RST, exactly at the TIME_WAIT end's
# RCV.NXT, ends TIME_WAIT early (net.ipv4.tcp_rfc1337=0), so the closer-first end may be gone too.
LOSSY_ENDS = {
    "client-first": ({"TIME_WAIT", None}, {None}),
    "server-first": ({None}, {"TIME_WAIT", None}),
    "open": ({"ESTABLISHED"}, {"ESTABLISHED"}),
    "half-close": ({"FIN_WAIT2"}, {"CLOSE_WAIT"}),
    "server-leak": ({"CLOSE_WAIT"}, {"FIN_WAIT2"}),
}


def tcp_table():
    """{(local, remote): (STATE, timer)} from /proc/net/tcp (timer 1: retransmission/probe pending)."""
    out = {}
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            f_ = line.split()
            out[(_dec_addr(f_[1]), _dec_addr(f_[2]))] = (TCP_STATES.get(int(f_[3], 16), f_[3]),
                                                        int(f_[5].split(":")[0], 16))
    return out


def sc_lossy_network(lab):
    count = len(LOSSY_MODES)
    lab.describe(f"{count} short request/response connections, started 20 ms apart, through a seeded "
                 "NFQUEUE verdict loop after the capture point (random.Random(29), every TCP segment "
                 "either way): about 3 % dropped silently (on the wire, never delivered), about 3 % held "
                 "20-150 ms while the segments behind them go on (delivered out of order), about 2 % "
                 "delivered twice (a byte-identical copy re-injected on lo, on the wire too). Endings by "
                 "connection: 70 client-first (client TIME_WAIT, server CLOSED), 70 server-first (server "
                 "TIME_WAIT, client CLOSED), 20 left open (both ESTABLISHED), 20 half-closed by the client "
                 "(client FIN_WAIT2, server CLOSE_WAIT), 20 closed by the server only (client CLOSE_WAIT, "
                 "server FIN_WAIT2). The capture stops once no retransmission is pending.")
    modes = list(LOSSY_MODES)
    random.Random(LOSSY_SEED + 1).shuffle(modes)
    rng = random.Random(LOSSY_SEED)
    dropped_rsts = set()            # (sender port, receiver port) of every RST the loop dropped

    def decide(tcp):
        r = rng.random()
        if r < 0.03:
            if tcp["flags"] & 0x04:
                dropped_rsts.add((tcp["sport"], tcp["dport"]))
            return "drop", 0.0
        if r < 0.06:
            return "reorder", round(rng.uniform(0.020, 0.150), 3)
        if r < 0.08:
            return "duplicate", 0.0
        return "accept", 0.0

    lab.watch_time_wait()           # the kernel's own evidence of TIME_WAITs an RST ends early
    subnet = f"127.42.{lab.n}.0/24"
    q = lab.nfqueue(f"-p tcp -s {subnet} -d {subnet} -m mark ! --mark {DUP_MARK}", decide,
                    gso=True, log_all=False)
    L = lab.listener(backlog=512)
    se = ep(lab.srv, lab.port)
    accepted, cv = {}, threading.Condition()
    errors = []

    def acceptor():
        try:
            for _ in range(count):
                L.settimeout(25)
                a, peer = L.accept()
                a.settimeout(20)
                lab.hold(a)
                with cv:
                    accepted[ep(*peer[:2])] = a
                    cv.notify_all()
        except Exception as e:           # noqa: BLE001 - reported below
            errors.append(f"accept: {e!r}")

    results = [None] * count

    def worker(i, mode):
        try:
            c = lab.client()
            c.settimeout(20)
            c.connect((lab.srv, lab.port))
            ce = sock_ep(c)
            with cv:
                if not cv.wait_for(lambda: ce in accepted, 20):
                    raise RuntimeError("never accepted")
                a = accepted[ce]
            results[i] = ce
            req, resp = b"GET /%d HTTP/1.0\r\n\r\n" % i, b"HTTP/1.0 200 OK\r\n\r\nreply %d\n" % i
            c.sendall(req)
            if mode == "half-close":
                c.shutdown(socket.SHUT_WR)
                if recv_eof(a) != req:
                    raise RuntimeError("bad request")
            else:
                recv_exact(a, len(req))
            a.sendall(resp)
            recv_exact(c, len(resp))
            if mode == "client-first":
                close_in_turn(c, a)
            elif mode == "server-first":
                close_in_turn(a, c)
            elif mode == "server-leak":
                a.close()
                if recv_eof(c) != b"":
                    raise RuntimeError("unexpected data")
        except Exception as e:           # noqa: BLE001 - reported below
            errors.append(f"connection {i} ({mode}): {e!r}")

    threads = [threading.Thread(target=acceptor, daemon=True)]
    threads[0].start()
    for i, mode in enumerate(modes):
        t = threading.Thread(target=worker, args=(i, mode), daemon=True)
        t.start()
        threads.append(t)
        time.sleep(0.02)
    for t in threads:
        t.join(25)
    if errors or any(t.is_alive() for t in threads):
        raise RuntimeError("lossy-network: " + "; ".join(errors or ["a connection did not finish"]))

    busy = ("SYN_SENT", "SYN_RECV", "FIN_WAIT1", "LAST_ACK", "CLOSING")

    def settled():
        tab = tcp_table()
        if q.pending() or any(st in busy or timer == 1 for st, timer in tab.values()):
            return False
        for ce, mode in zip(results, modes):
            cl, sv = LOSSY_ENDS[mode]
            if tab.get((ce, se), (None,))[0] not in cl or tab.get((se, ce), (None,))[0] not in sv:
                return False
        return True
    # no retransmission pending, nothing held in the verdict loop, every end where it can end;
    # then once more after 0.5 s (a delayed ACK, a late copy)
    wait_for(settled, 15, "every connection to settle")
    time.sleep(0.5)
    wait_for(settled, 5, "every connection to settle (again)")
    tab = tcp_table()
    tally, early = {}, []
    for ce, mode in zip(results, modes):
        for local, remote, st in ((ce, se, tab.get((ce, se), (None,))[0]), (se, ce, tab.get((se, ce), (None,))[0])):
            if st is not None:
                lab.expect(local, remote, st)
                tally[st] = tally.get(st, 0) + 1
        if mode == "client-first" and tab.get((ce, se), (None,))[0] is None:
            early.append((ce, se, f"{ce} (client-first, client"))
        if mode == "server-first" and tab.get((se, ce), (None,))[0] is None:
            early.append((se, ce, f"{se} -> {ce} (server-first, server"))
    tw_seen = {(x["local"], x["remote"]) for x in lab.stop_time_wait_watch()}
    early = [f"{text}, {'listed in TIME_WAIT' if (l, r) in tw_seen else 'never seen in TIME_WAIT'})"
             for l, r, text in early]
    # An RST dropped after the capture point is on the wire but never arrived: whether it ended its
    # target (a TIME_WAIT it would have killed survives) is what no capture can show.
    for sport, dport in sorted(dropped_rsts):
        target, peer = (ep(lab.cli, dport), se) if sport == lab.port else (se, ep(lab.cli, sport))
        lab.unrevealable(target, peer, "an RST to it was dropped after the capture point (on the wire, never "
                         "delivered): the wire shows it ended, the kernel kept its state")
    for st, n in sorted(tally.items()):
        lab.expect_count(st, n)
    lab.expect_count("LISTEN", 1)
    lab.note(f"Connection modes in connect order (i = 0..{count - 1}): " +
             " ".join(f"{i}:{m}" for i, m in enumerate(modes)))
    lab.note("Client endpoints in connect order: " + " ".join(f"{i}:{ce}" for i, ce in enumerate(results)))
    c = q.counts
    lab.note(f"Verdict loop (seed {LOSSY_SEED}): {sum(c.values())} segments queued; {c.get('drop', 0)} dropped, "
             f"{c.get('reorder', 0)} reordered (held 20-150 ms, the segments behind them not), "
             f"{c.get('duplicate', 0)} duplicated (a byte-identical copy re-injected on lo with skb mark "
             f"{DUP_MARK:#x}, which the NFQUEUE rule lets pass), {c.get('accept', 0)} accepted as they came. "
             "Every verdict other than a plain accept is listed below (nfqueue 0: ...), time relative to "
             "the start of the socket program.")
    if early:
        lab.note("TIME_WAIT ended early (no longer in ss) by an RST exactly at its RCV.NXT from a peer whose "
                 "socket was already gone, answering a late (reordered or duplicated) segment or the TIME_WAIT "
                 "end's ACK of one (net.ipv4.tcp_rfc1337=0: a timewait socket takes that RST; no tracepoint "
                 "event, a timewait socket is not a full socket): " + ", ".join(early))
    lab.note("End states (ss): " + ", ".join(f"{n} {st}" for st, n in sorted(tally.items())))

def sc_fixture_traffic(workdir):
    """Traffic for make-format-fixtures.sh: a few short connections over 127.42.200.x and ::1."""
    srv, cli = "127.42.200.1", "127.42.200.2"
    done = 0
    for family, s_addr, c_addr, port in ((socket.AF_INET, srv, cli, 8080),
                                         (socket.AF_INET6, "::1", "::1", 8086)):
        L = socket.socket(family, socket.SOCK_STREAM)
        L.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        L.bind((s_addr, port))
        L.listen(16)
        L.settimeout(5)
        for i in range(3):
            c = socket.socket(family, socket.SOCK_STREAM)
            c.settimeout(5)
            c.bind((c_addr, 0))
            c.connect((s_addr, port))
            a, _ = L.accept()
            a.settimeout(5)
            req = b"GET /%d HTTP/1.0\r\n\r\n" % i
            resp = b"HTTP/1.0 200 OK\r\nContent-Length: 120\r\n\r\n" + bytes(range(48, 48 + 60)) * 2
            request_response(c, a, req, resp)
            if i == 1:                   # server closes first
                close_in_turn(a, c)
            elif i == 2:                 # abortive close
                abort(c, a)
            else:                        # client closes first
                close_in_turn(c, a)
            done += 1
        L.close()
    time.sleep(0.2)                      # let the last ACKs go out before the captures stop
    with open(os.path.join(workdir, "ready"), "w") as f:
        f.write(f"{done}\n")


SCENARIOS = {name: globals()["sc_" + name.replace("-", "_")] for name in ORDER}


def main(argv):
    if len(argv) >= 2 and argv[1] == "list":
        print(" ".join(ORDER))
        return 0
    if len(argv) == 3 and argv[1] == "info":
        if argv[2] not in SCENARIOS:
            print(f"unknown scenario: {argv[2]}", file=sys.stderr)
            return 2
        i = info(argv[2])
        print(f"S_INDEX={i['index']}")
        print(f"S_PORTS='{' '.join(str(p) for p in i['ports'])}'")
        print(f"S_IFACE={i['iface']}")
        print(f"S_FMT={i['fmt']}")
        print(f"S_SNAPLEN={i['snaplen']}")
        print(f"S_MIDSTREAM={1 if i['midstream'] else 0}")
        print(f"S_EDIT={i.get('edit', '')}")
        return 0
    if len(argv) == 4 and argv[1] == "edit":
        edit_capture(info(argv[2]).get("edit", ""), argv[3])
        return 0
    if len(argv) == 6 and argv[1] == "watch-time-wait":
        watch_time_wait(argv[2], [int(f) for f in argv[3].split(",")], float(argv[4]),
                        {int(c) for c in argv[5].split(",") if c})
        return 0
    if len(argv) == 3 and argv[1] == "fixture-traffic":
        sc_fixture_traffic(argv[2])
        return 0
    if len(argv) == 4 and argv[1] == "run":
        name, workdir = argv[2], argv[3]
        lab = Lab(name, workdir)
        SCENARIOS[name](lab)
        lab.ready()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
