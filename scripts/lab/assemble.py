#!/usr/bin/env python3
"""Build <scenario>.expected.json for one kernel-lab run (stdlib only).

    assemble.py WORKDIR OUTDIR SCENARIO CAPTURE IFACE KERNEL TRACE_CLOCK [pcap|dumpcap]

WORKDIR holds what run.sh and scenarios.py left there: meta.json, ss.txt,
ss_info.txt, trace_raw.txt, trace_fields.txt, trace_text.txt, trace_stats.txt,
capture.err, nft.txt.  CAPTURE is the capture file (already in OUTDIR).
Exit status 0: OUTDIR/<scenario>.expected.json written.  Non-zero: the run is
rejected (capture drops, lost trace events, or the kernel did not end where
the scenario expects); the reasons go to stderr and the would-be JSON to
WORKDIR/expected.json for inspection.
"""
import json
import os
import re
import socket
import statistics
import struct
import sys

SS_STATES = {"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV",
             "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2", "TIME-WAIT": "TIME_WAIT",
             "UNCONN": "CLOSED", "CLOSE": "CLOSED", "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK",
             "LISTEN": "LISTEN", "CLOSING": "CLOSING"}
TP_STATES = {"TCP_ESTABLISHED": "ESTABLISHED", "TCP_SYN_SENT": "SYN_SENT", "TCP_SYN_RECV": "SYN_RECV",
             "TCP_FIN_WAIT1": "FIN_WAIT1", "TCP_FIN_WAIT2": "FIN_WAIT2", "TCP_TIME_WAIT": "TIME_WAIT",
             "TCP_CLOSE": "CLOSED", "TCP_CLOSE_WAIT": "CLOSE_WAIT", "TCP_LAST_ACK": "LAST_ACK",
             "TCP_LISTEN": "LISTEN", "TCP_CLOSING": "CLOSING", "TCP_NEW_SYN_RECV": "SYN_RECV"}

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def ep(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


# ------------------------------------------------------------------ captures

def read_capture(path):
    """Yield (ts_ns, linktype, frame bytes) from a pcap (usec or nsec, either
    byte order) or pcapng file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        yield from _read_pcapng(data)
        return
    for endian in "<>":
        m = struct.unpack(endian + "I", magic)[0]
        if m in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        raise ValueError(f"{path}: not a pcap or pcapng file")
    nsec = m == 0xA1B23C4D
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        yield sec * 10**9 + (frac if nsec else frac * 1000), linktype, data[off:off + caplen]
        off += caplen


def _read_pcapng(data):
    off = 0
    endian = "<"
    ifaces = []
    while off + 12 <= len(data):
        btype = struct.unpack(endian + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            bom = data[off + 8:off + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack(endian + "I", data[off + 4:off + 8])[0]
        body = data[off + 8:off + blen - 4]
        if btype == 1:                                    # interface description
            linktype = struct.unpack(endian + "H", body[0:2])[0]
            tsresol = 6
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack(endian + "HH", body[o:o + 4])
                if code == 0:
                    break
                if code == 9:
                    tsresol = body[o + 4]
                o += 4 + ((olen + 3) & ~3)
            ifaces.append((linktype, tsresol))
        elif btype == 6:                                  # enhanced packet
            iface, hi, lo, caplen, _ = struct.unpack(endian + "IIIII", body[:20])
            linktype, tsresol = ifaces[iface]
            ticks = (hi << 32) | lo
            if tsresol & 0x80:
                ts_ns = ticks * 10**9 // (2 ** (tsresol & 0x7F))
            else:
                ts_ns = ticks * 10**9 // (10 ** tsresol)
            yield ts_ns, linktype, body[20:20 + caplen]
        off += blen


def decode_tcp(linktype, frame):
    """(src, dst, sport, dport, seq, ack, flags, win, payload_len) or None."""
    if linktype == 1:                       # Ethernet (what lo gives)
        eth, off = struct.unpack("!H", frame[12:14])[0], 14
    elif linktype == 113:                   # Linux cooked v1
        eth, off = struct.unpack("!H", frame[14:16])[0], 16
    elif linktype == 276:                   # Linux cooked v2
        eth, off = struct.unpack("!H", frame[0:2])[0], 20
    elif linktype == 0:                     # BSD loopback
        fam = struct.unpack("<I", frame[0:4])[0]
        eth, off = (0x0800 if fam == 2 else 0x86DD), 4
    elif linktype in (12, 101):             # raw IP
        eth, off = (0x0800 if frame[0] >> 4 == 4 else 0x86DD), 0
    else:
        return None
    if eth == 0x0800:
        ihl = (frame[off] & 0x0F) * 4
        total = struct.unpack("!H", frame[off + 2:off + 4])[0]
        if frame[off + 9] != 6:
            return None
        src = socket.inet_ntop(socket.AF_INET, frame[off + 12:off + 16])
        dst = socket.inet_ntop(socket.AF_INET, frame[off + 16:off + 20])
        t = off + ihl
        ip_payload = total - ihl
    elif eth == 0x86DD:
        if frame[off + 6] != 6:
            return None
        plen = struct.unpack("!H", frame[off + 4:off + 6])[0]
        src = socket.inet_ntop(socket.AF_INET6, frame[off + 8:off + 24])
        dst = socket.inet_ntop(socket.AF_INET6, frame[off + 24:off + 40])
        t = off + 40
        ip_payload = plen
    else:
        return None
    if len(frame) < t + 16:
        return None
    sport, dport, seq, ack, offflags, win = struct.unpack("!HHIIHH", frame[t:t + 16])
    hlen = (offflags >> 12) * 4
    return dict(src=ep(src, sport), dst=ep(dst, dport), seq=seq, ack=ack,
                flags=offflags & 0x1FF, win=win, len=ip_payload - hlen)


def load_packets(path):
    pkts = []
    for ts, lt, frame in read_capture(path):
        d = decode_tcp(lt, frame)
        if d:
            d["ts_ns"] = ts
            pkts.append(d)
    return pkts


def linktype_of(path):
    for _, lt, _ in read_capture(path):
        return lt
    return None


# ------------------------------------------------------------------ ss

def parse_ss(lines):
    out = []
    for line in lines:
        f = line.split()
        if len(f) < 5:
            continue
        timer = None
        for tok in f[5:]:
            if tok.startswith("timer:(") and tok.endswith(")"):
                timer = tok[len("timer:("):-1]
        out.append(dict(local=f[3], remote=f[4], state=SS_STATES.get(f[0], f[0]), timer=timer,
                        recv_q=int(f[1]), send_q=int(f[2])))
    return out


# ------------------------------------------------------------------ trace

TEXT_RE = re.compile(r"^\s*(?P<task>.*?)-(?P<pid>\d+)\s+\[(?P<cpu>\d+)\]\s+\S+\s+(?P<ts>\d+\.\d+): "
                     r"inet_sock_set_state: (?P<kv>.*)$")
RAW_RE = re.compile(r"^\s*(?P<pid>\d+)\s+(?P<cpu>\d+)\s+(?P<ts>\d+)\s+type:")
SKADDR_RE = re.compile(r"skaddr=(0x[0-9a-f]+)")


def nonblank(path):
    with open(path) as f:
        return [l.rstrip() for l in f if l.strip() and not l.startswith("#")]


def parse_trace(workdir):
    raw = nonblank(os.path.join(workdir, "trace_raw.txt"))
    fields = nonblank(os.path.join(workdir, "trace_fields.txt"))
    text = nonblank(os.path.join(workdir, "trace_text.txt"))
    if not (len(raw) == len(fields) == len(text)):
        raise SystemExit(f"trace reads disagree: {len(raw)} raw, {len(fields)} fields, {len(text)} text lines")
    events = []
    for r, fl, t in zip(raw, fields, text):
        mr, mt, ms = RAW_RE.match(r), TEXT_RE.match(t), SKADDR_RE.search(fl)
        if not (mr and mt and ms):
            raise SystemExit(f"unparsable trace line:\n{r}\n{fl}\n{t}")
        if (mr["pid"], int(mr["cpu"])) != (mt["pid"], int(mt["cpu"])):
            raise SystemExit(f"trace reads out of step:\n{r}\n{t}")
        kv = dict(x.split("=", 1) for x in mt["kv"].split())
        fam6 = kv["family"] == "AF_INET6"
        events.append(dict(ts_ns=int(mr["ts"]), skaddr=ms.group(1), family=6 if fam6 else 4,
                           saddr=kv["saddrv6"] if fam6 else kv["saddr"],
                           daddr=kv["daddrv6"] if fam6 else kv["daddr"],
                           sport=int(kv["sport"]), dport=int(kv["dport"]),
                           old=TP_STATES[kv["oldstate"]], new=TP_STATES[kv["newstate"]],
                           text=t.strip()))
    return events


def remote_ep(e):
    if e["dport"] == 0 and e["daddr"] in ("0.0.0.0", "::"):
        return "[::]:*" if e["family"] == 6 else "0.0.0.0:*"
    return ep(e["daddr"], e["dport"])


# ------------------------------------------------------------------ output

def dump(obj, indent=0):
    """JSON with one line per list element: readable, diffable and small."""
    pad = "  " * (indent + 1)
    if isinstance(obj, dict) and obj:
        items = [f"{pad}{json.dumps(k)}: {dump(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}" + ("\n" if indent == 0 else "")
    if isinstance(obj, list) and obj:
        return "[\n" + ",\n".join(pad + json.dumps(x) for x in obj) + "\n" + "  " * indent + "]"
    return json.dumps(obj)


# ------------------------------------------------------------------ main

def main():
    workdir, outdir, scenario, capture, iface, kernel, clock = sys.argv[1:8]
    capkind = sys.argv[8] if len(sys.argv) > 8 else "pcap"
    with open(os.path.join(workdir, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(workdir, "info.json")) as f:
        info = json.load(f)
    problems = []
    notes = []

    # capture drops
    cap_err = nonblank(os.path.join(workdir, "capture.err"))
    dropped = None
    if capkind == "dumpcap":
        for l in cap_err:
            m = re.search(r"Packets received/dropped on interface '[^']*': (\d+)/(\d+) "
                          r"\(pcap:(\d+)/dumpcap:(\d+)/flushed:(\d+)/ps_ifdrop:(\d+)\)", l)
            if m:
                dropped = (dropped or 0) + sum(int(x) for x in m.groups()[1:])
    else:
        for l in cap_err:
            m = re.match(r"(\d+) packets? dropped by (kernel|interface)", l)
            if m:
                dropped = (dropped or 0) + int(m.group(1))
    if dropped is None:
        problems.append("capture tool printed no drop statistics: cannot verify the capture is complete")
    elif dropped:
        problems.append(f"capture dropped {dropped} packets")

    # trace buffer losses
    tstats = nonblank(os.path.join(workdir, "trace_stats.txt"))
    lost = sum(int(m.group(2)) for l in tstats for m in [re.match(r"(overrun|dropped events): (\d+)", l)] if m)
    if lost:
        problems.append(f"trace buffer lost {lost} events (overrun/dropped)")

    # ss
    ss_lines = nonblank(os.path.join(workdir, "ss.txt"))
    ss_info = nonblank(os.path.join(workdir, "ss_info.txt"))
    if len(ss_lines) > 50:
        notes.append(f"raw.ss_info (ss -tanoiH) is left out: {len(ss_lines)} sockets would make it too big.")
        ss_info = []
    ss = parse_ss(ss_lines)

    # trace: keep this scenario's events, fill the port-0 SYN_SENT events
    n = info["index"]
    prefix = f"127.42.{n}."
    ports = set(info["ports"])
    events = parse_trace(workdir)
    for i, e in enumerate(events):
        if e["sport"] == 0 and e["new"] == "SYN_SENT":
            nxt = next((x for x in events[i + 1:] if x["skaddr"] == e["skaddr"]), None)
            if nxt is not None:
                e["sport"] = nxt["sport"]
                if e["saddr"] in ("0.0.0.0", "::"):
                    e["saddr"] = nxt["saddr"]
                e["filled"] = "its next event"
    for e in events:
        if e["family"] == 4:
            e["keep"] = e["saddr"].startswith(prefix) and (e["daddr"].startswith(prefix) or e["daddr"] == "0.0.0.0")
        else:
            e["keep"] = (e["saddr"] in ("::1", "::") and e["daddr"] in ("::1", "::")
                         and (e["sport"] in ports or e["dport"] in ports))
    events = [e for e in events if e["keep"]]
    # A socket's story starts with its birth (CLOSE -> SYN_SENT/LISTEN, or a listener's child
    # LISTEN -> SYN_RECV). Events of a socket first seen mid-life belong to an earlier run whose
    # namespace the kernel is still tearing down (same addresses): leave them out.
    born, stale = set(), 0
    for e in events:
        if e["old"] in ("CLOSED", "LISTEN"):
            born.add(e["skaddr"])
        if e["skaddr"] not in born:
            e["keep"] = False
            stale += 1
    if stale:
        notes.append(f"{stale} trace event(s) of sockets from before this run (first event not a socket's birth) were left out.")
    events = [e for e in events if e["keep"]]
    for e in events:
        if e["sport"] == 0 and e["new"] == "SYN_SENT":
            # no later event for this socket (it is still SYN_SENT): take the port from ss
            taken = {ep(x["saddr"], x["sport"]) for x in events if x["sport"]}
            cands = [s for s in ss if s["state"] == "SYN_SENT" and s["remote"] == remote_ep(e)
                     and s["local"].rsplit(":", 1)[0].strip("[]") == e["saddr"] and s["local"] not in taken]
            if len(cands) == 1:
                e["sport"] = int(cands[0]["local"].rsplit(":", 1)[1])
                e["filled"] = "ss (the socket had no later event)"
            else:
                notes.append(f"a CLOSE -> SYN_SENT event toward {remote_ep(e)} kept port 0: no later event "
                             "for its socket and no unique SYN-SENT entry in ss")
    filled = [(ep(e["saddr"], e["sport"]), e["filled"]) for e in events if e.get("filled")]
    transitions = [dict(ts_ns=str(e["ts_ns"]), local=ep(e["saddr"], e["sport"]), remote=remote_ep(e),
                        **{"from": e["old"], "to": e["new"]}) for e in events]
    if filled:
        by_next = sum(1 for _, how in filled if how == "its next event")
        by_ss = len(filled) - by_next
        how = []
        if by_next:
            how.append(f"for {by_next} such event{'s' if by_next > 1 else ''} from the next event of the same "
                       "socket (same skaddr pointer, raw.trace_skaddr)")
        if by_ss:
            how.append(f"for {by_ss} from the socket's SYN-SENT line in ss, because the socket had no later event")
        notes.append("The tracepoint's CLOSE -> SYN_SENT event for connect() fires before the source port "
                     "is chosen (sport=0 in raw.trace); the port in kernel_transitions was filled in "
                     + " and ".join(how) + ".")

    # the timewait swap
    last = {}
    for t in transitions:
        last[(t["local"], t["remote"])] = t
    swapped = {}
    for s in ss:
        if s["state"] in ("TIME_WAIT", "FIN_WAIT2"):
            t = last.get((s["local"], s["remote"]))
            if t and t["to"] == "CLOSED":
                key = f"{t['from']} -> CLOSED while ss lists {s['state']}"
                swapped[key] = swapped.get(key, 0) + 1
    if swapped:
        notes.append("kernel_transitions are as the kernel printed them: entering TIME_WAIT, and FIN_WAIT2 after "
                     "an orphaning close(), is traced as a transition to CLOSED because the kernel replaces the "
                     "full socket by a small timewait socket (which emits no further events), while ss still "
                     "lists the tuple: " + "; ".join(f"{v} x {k}" for k, v in sorted(swapped.items())) + ".")
    halfopen = [s for s in ss if s["state"] == "SYN_RECV"
                and not any(t["local"] == s["local"] and t["remote"] == s["remote"] for t in transitions)]
    if halfopen:
        one = len(halfopen) == 1
        notes.append(f"{len(halfopen)} SYN_RECV entr{'y' if one else 'ies'} in ss (half-open request "
                     f"socket{'' if one else 's'}) ha{'s' if one else 've'} no tracepoint event at all: only a "
                     "completed request shows LISTEN -> SYN_RECV -> ESTABLISHED.")

    # packets
    pkts = load_packets(capture)
    lt = linktype_of(capture)

    # clock check: does the event sit next to its packet?
    def match(t):
        L, R, fr, to = t["local"], t["remote"], t["from"], t["to"]
        if to == "SYN_SENT":
            return [p for p in pkts if p["src"] == L and p["dst"] == R and p["flags"] & (SYN | ACK) == SYN]
        if to in ("FIN_WAIT1", "LAST_ACK"):
            return [p for p in pkts if p["src"] == L and p["dst"] == R and p["flags"] & FIN]
        if fr == "SYN_SENT" and to == "ESTABLISHED":
            return [p for p in pkts if p["src"] == R and p["dst"] == L and p["flags"] & (SYN | ACK) == SYN | ACK]
        if fr == "SYN_SENT" and to == "SYN_RECV":
            return [p for p in pkts if p["src"] == R and p["dst"] == L and p["flags"] & (SYN | ACK) == SYN]
        if fr == "SYN_SENT" and to == "CLOSED":
            return [p for p in pkts if p["src"] == R and p["dst"] == L and p["flags"] & RST]
        return None
    deltas = []
    checked = 0
    for t in transitions:
        cands = match(t)
        if cands is None:
            continue
        checked += 1
        if cands:
            ts = int(t["ts_ns"])
            deltas.append(min((p["ts_ns"] - ts for p in cands), key=abs))
    close = [d for d in deltas if abs(d) <= 1_000_000]
    comparable = bool(close)
    if checked:
        notes.append(f"Clock check ({clock} trace clock vs capture timestamps): {len(close)} of {checked} "
                     "transitions that send or receive a SYN/SYN-ACK/FIN/RST have their packet within 1 ms"
                     + (f" (median packet - event {int(statistics.median(close)) / 1000:.1f} us)" if close else "")
                     + ("." if len(close) == checked else
                        "; the others had that packet dropped before the capture point, or not captured."))
    else:
        notes.append("Clock check: no transition in this scenario has a packet to compare with.")

    # expectations
    def pcap_count(what, sender):
        mine = [p for p in pkts if sender is None or p["src"] == sender]
        if what == "rst":
            return sum(1 for p in mine if p["flags"] & RST)
        if what == "zero_window":
            return sum(1 for p in mine if p["win"] == 0 and not p["flags"] & (SYN | RST))
        if what.startswith("retransmitted_"):
            want = {"retransmitted_fin": (FIN, FIN), "retransmitted_syn": (SYN | ACK, SYN),
                    "retransmitted_synack": (SYN | ACK, SYN | ACK)}[what]
            seen, n = set(), 0
            for p in mine:
                if p["flags"] & want[0] == want[1]:
                    k = (p["src"], p["dst"], p["seq"])
                    n += k in seen
                    seen.add(k)
            return n
        if what == "probe":
            hi, n = {}, 0
            for p in mine:
                k = (p["src"], p["dst"])
                end = (p["seq"] + p["len"] + (1 if p["flags"] & SYN else 0) + (1 if p["flags"] & FIN else 0)) & 0xFFFFFFFF
                if (p["len"] == 0 and not p["flags"] & (SYN | FIN | RST) and k in hi
                        and p["seq"] == (hi[k] - 1) & 0xFFFFFFFF):
                    n += 1
                if k not in hi or ((end - hi[k]) & 0xFFFFFFFF) < 0x80000000:
                    hi[k] = end
            return n
        raise ValueError(what)

    for x in meta["expect"]:
        k = x["kind"]
        if k == "ss":
            if not any(s["local"] == x["local"] and s["remote"] == x["remote"] and s["state"] == x["state"] for s in ss):
                have = [s["state"] for s in ss if s["local"] == x["local"] and s["remote"] == x["remote"]]
                problems.append(f"ss: expected {x['local']} -> {x['remote']} in {x['state']}, ss has {have or 'nothing'}")
        elif k == "ss_count":
            c = sum(1 for s in ss if s["state"] == x["state"])
            if c != x["count"]:
                problems.append(f"ss: expected {x['count']} sockets in {x['state']}, ss has {c}")
        elif k == "transition":
            if not any((x["local"] is None or t["local"] == x["local"]) and t["remote"] == x["remote"]
                       and t["from"] == x["from"] and t["to"] == x["to"] for t in transitions):
                problems.append(f"trace: no {x['from']} -> {x['to']} for {x['local'] or '*'} -> {x['remote']}")
        elif k == "pcap":
            c = pcap_count(x["what"], x["sender"])
            if c < x["min"]:
                problems.append(f"capture: expected at least {x['min']} {x['what']} from {x['sender'] or 'anyone'}, found {c}")
            else:
                notes.append(f"Capture check: {c} {x['what'].replace('_', ' ')} segment(s) from {x['sender'] or 'any sender'}.")

    ref = os.path.join(workdir, "reference.pcap")
    if capkind == "dumpcap" and os.path.exists(ref):
        for l in nonblank(os.path.join(workdir, "reference.err")):
            m = re.match(r"(\d+) packets? dropped by (kernel|interface)", l)
            if m and int(m.group(1)):
                problems.append(f"the reference tcpdump dropped {m.group(1)} packets")
        nref = len(load_packets(ref))
        if nref != len(pkts):
            problems.append(f"dumpcap wrote {len(pkts)} TCP packets, the reference tcpdump beside it {nref}")
        else:
            notes.append(f"Completeness check: a tcpdump running beside dumpcap captured the same {nref} TCP packets.")
    if not pkts:
        problems.append("the capture holds no TCP packets")

    linknames = {1: "EN10MB (Ethernet)", 113: "LINUX_SLL (cooked v1)", 276: "LINUX_SLL2 (cooked v2)"}
    notes.append(f"Capture: {os.path.basename(capture)}, {len(pkts)} TCP packets, link type {lt} "
                 f"{linknames.get(lt, '')}, written by {'dumpcap' if capkind == 'dumpcap' else 'tcpdump'}.")

    out = {
        "scenario": scenario,
        "description": meta["description"],
        "capture": os.path.basename(capture),
        "interface": iface,
        "kernel": kernel,
        "tcpdump_dropped": dropped if dropped is not None else -1,
        "trace_clock": clock,
        "trace_clock_comparable_with_capture": comparable,
        "ss": ss,
        "kernel_transitions": transitions,
        **({"time_wait_seen": meta["time_wait_seen"]} if "time_wait_seen" in meta else {}),
        "unrevealable": meta["unrevealable"],
        "notes": meta["notes"] + notes,
        "raw": {
            "ss": ss_lines,
            "ss_info": ss_info,
            "trace": [e["text"] for e in events],
            "trace_skaddr": [e["skaddr"] for e in events],
            "nft": nonblank(os.path.join(workdir, "nft.txt")),
            "capture_stats": cap_err,
        },
    }
    text = dump(out)
    with open(os.path.join(workdir, "expected.json"), "w") as f:
        f.write(text)
    if problems:
        for p in problems:
            print(f"lab: {scenario}: {p}", file=sys.stderr)
        return 1
    dest = os.path.join(outdir, f"{scenario}.expected.json")
    with open(dest + ".tmp", "w") as f:
        f.write(text)
    os.replace(dest + ".tmp", dest)
    return 0


def compare(paths):
    """--compare A B...: the captures hold the same TCP segments in the same order (timestamps
    equal to the coarser precision).  Used by make-format-fixtures.sh."""
    base = None
    for p in paths:
        pk = [(x["src"], x["dst"], x["seq"], x["ack"], x["flags"], x["len"], x["ts_ns"]) for x in load_packets(p)]
        if base is None:
            base, bname = pk, p
            print(f"{os.path.basename(p)}: {len(pk)} TCP packets, link type {linktype_of(p)}")
            continue
        same_seg = len(pk) == len(base) and all(a[:6] == b[:6] for a, b in zip(pk, base))
        skew = max((abs(a[6] - b[6]) for a, b in zip(pk, base)), default=0)
        print(f"{os.path.basename(p)}: {len(pk)} TCP packets, link type {linktype_of(p)}, "
              f"segments {'identical' if same_seg else 'DIFFERENT'} to {os.path.basename(bname)}, "
              f"timestamps within {skew / 1000:.0f} us of it")
        if not same_seg:
            return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2:]))
    sys.exit(main())
