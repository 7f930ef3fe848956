#!/usr/bin/env python3
"""Writes the issue 18 comparison table into docs/BENCHMARKS.md.

Reads the anchors' result files (PouchDB without and with attachments, automerge-repo) and
this project's street day bench JSON (`XY_BENCH_JSON`), and replaces what is between the
bench-anchors markers with a table, the goals of issue 18 (met or not met), and how the
figures were made. `scripts/bench-anchors` runs it; standard library only.
"""

import argparse
import datetime
import json
import os
import statistics
import sys

BEGIN = "<!-- bench-anchors:begin -->"
END = "<!-- bench-anchors:end -->"
SECTION = "## Against PouchDB and automerge-repo (issue 18)"

# The anchors' photo payload per report: 2 photos of 256,000 B and 2 thumbnails of 8,192 B.
PHOTO_BYTES_PER_REPORT = 2 * 256_000 + 2 * 8_192
REPORTS_PER_DEVICE = 30

# Whether an empty phase is shown as a dash.
DASH = "–"


def load(path):
    """The JSON in `path`, or None when there is no such file."""
    if not path or not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def median_of(result, mode, phase, key):
    """Median over runs of `result[phase][key]` for runs in `mode`, or None."""
    if not result:
        return None
    xs = [r[phase][key] for r in result["runs"] if r["mode"] == mode and key in r.get(phase, {})]
    return statistics.median(xs) if xs else None


def num(x, digits=0):
    """A number with thousands separators, or a dash."""
    if x is None:
        return DASH
    return f"{x:,.{digits}f}"


def secs(x, digits=2):
    """Seconds, or a dash."""
    return DASH if x is None else f"{x:,.{digits}f} s"


def ratio(theirs, ours, better, worse):
    """How Xiangying compares: '×2.7 faster' when lower is better and ours is lower."""
    if theirs is None or ours is None or ours <= 0 or theirs <= 0:
        return DASH
    r = theirs / ours
    x = r if r >= 1 else 1 / r
    digits = 2 if x < 2 else 1
    return f"×{x:,.{digits}f} {better}" if r >= 1 else f"×{x:,.{digits}f} {worse}"


def add(a, b):
    return None if a is None or b is None else a + b


def div(a, b):
    return None if a is None or not b else a / b


class Anchor:
    """One anchor column's figures for one mode, phase by phase (None where not measured)."""

    def __init__(self, result, mode, devices):
        self.ok = result is not None and any(r["mode"] == mode for r in result["runs"])
        m = lambda phase, key: median_of(result, mode, phase, key) if self.ok else None
        per = lambda x: div(x, devices)
        self.push_s = div(m("push", "wallMs"), 1000)
        # PouchDB counts HTTP requests; automerge-repo counts WebSocket messages.
        self.push_requests = m("push", "requests")
        self.push_msgs = add(m("push", "msgsUp"), m("push", "msgsDown"))
        self.push_bytes = add(m("push", "bytesUp"), m("push", "bytesDown"))
        self.change_bytes = m("create", "changeBytes")
        self.noop_requests = per(m("noop", "requests"))
        self.noop_msgs = per(add(m("noop", "msgsUp"), m("noop", "msgsDown")))
        self.noop_bytes = per(add(m("noop", "bytesUp"), m("noop", "bytesDown")))
        self.noop_ms = m("noop", "perDeviceMedianMs") or m("noop", "perDeviceMedianMsToLastMsg")
        self.pull_s = div(m("pull", "wallMs"), 1000)
        self.pull_requests = m("pull", "requests")
        self.pull_msgs = add(m("pull", "msgsUp"), m("pull", "msgsDown"))
        self.pull_bytes = add(m("pull", "bytesUp"), m("pull", "bytesDown"))


def calls(requests, msgs):
    """Requests, or WebSocket messages marked as such."""
    if requests is not None:
        return num(requests, 1 if requests % 1 else 0)
    if msgs is not None:
        return num(msgs, 1 if msgs % 1 else 0) + " msgs"
    return DASH


def machine():
    """nproc and the CPU's model name."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores (nproc), {model}"


def plural(n, word):
    """`1 request`, `2 requests`."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def goal(text, ok):
    if ok is None:
        return f"- {text}: **not measured**"
    return f"- {text}: **{'met' if ok else 'not met'}**"


def section(a, ours):
    """The markdown between the markers."""
    devices = ours["devices"]
    reports = devices * ours.get("reports_per_device", REPORTS_PER_DEVICE)
    seq = Anchor(a["noatt"], "seq", devices)
    c8 = Anchor(a["noatt"], "c8", devices)
    att_seq = Anchor(a["att"], "seq", devices)
    att_c8 = Anchor(a["att"], "c8", devices)
    am = Anchor(a["am"], "c8", devices)
    am_seq = Anchor(a["am"], "seq", devices)
    photos = ours.get("photos")
    photo_bytes_anchor = reports * PHOTO_BYTES_PER_REPORT

    o_push_bytes = ours["push"]["bytes_up"] + ours["push"]["bytes_down"]
    o_noop_bytes = ours["noop"]["bytes_up"] + ours["noop"]["bytes_down"]
    o_pull_bytes = ours["pull"]["bytes_up"] + ours["pull"]["bytes_down"]
    o_pull_s = ours.get("pull_median_s", ours["pull"]["wall_s"])

    rows = []

    def row(label, s, c, m, o, vs_c8, vs_am):
        rows.append(f"| {label} | {s} | {c} | {m} | {o} | {vs_c8} | {vs_am} |")

    faster = ("faster", "slower")
    fewer = ("fewer", "more")
    # Metadata push.
    am_push = secs(am.push_s)
    if am_seq.push_s is not None:
        am_push += f" (seq {am_seq.push_s:,.2f} s)"
    row("metadata push: wall", secs(seq.push_s), secs(c8.push_s), am_push,
        secs(ours["push"]["wall_s"], 3),
        ratio(c8.push_s, ours["push"]["wall_s"], *faster),
        ratio(am.push_s, ours["push"]["wall_s"], *faster))
    row("metadata push: requests", calls(seq.push_requests, None), calls(c8.push_requests, None),
        calls(None, am.push_msgs), num(ours["push"]["requests"]),
        ratio(c8.push_requests, ours["push"]["requests"], *fewer), DASH)
    per_report = lambda x: div(x, reports)
    row("metadata push: wire bytes per report (up+down)", num(per_report(seq.push_bytes)),
        num(per_report(c8.push_bytes)), num(per_report(am.push_bytes)),
        num(per_report(o_push_bytes)),
        ratio(c8.push_bytes, o_push_bytes, *fewer), ratio(am.push_bytes, o_push_bytes, *fewer))
    o_vs_changes = div(o_push_bytes, ours.get("change_bytes"))
    am_vs_changes = div(am.push_bytes, am.change_bytes)
    row("metadata push: wire bytes / automerge change bytes", DASH, DASH,
        num(am_vs_changes, 2), num(o_vs_changes, 2), DASH, ratio(am_vs_changes, o_vs_changes, *fewer))

    # Push with photos.
    no_photos = "not measured (`photos`: null)"
    if photos:
        p_bytes = photos["push"]["bytes_up"] + photos["push"]["bytes_down"]
        row("push with photos: wall", secs(att_seq.push_s), secs(att_c8.push_s), "(photo refs only)",
            secs(photos["push"]["wall_s"], 2) + f"; curl {photos['curl_wall_s']:,.2f} s"
            + (f", curl to a syncing sink {photos['curl_durable_wall_s']:,.2f} s"
               if photos.get("curl_durable_wall_s") else ""),
            ratio(att_c8.push_s, photos["push"]["wall_s"], *faster), DASH)
        row("push with photos: wire bytes / photo bytes", num(div(att_seq.push_bytes, photo_bytes_anchor), 3),
            num(div(att_c8.push_bytes, photo_bytes_anchor), 3), DASH,
            num(div(p_bytes, photos["photo_bytes"]), 3),
            ratio(div(att_c8.push_bytes, photo_bytes_anchor), div(p_bytes, photos["photo_bytes"]), *fewer), DASH)
    else:
        row("push with photos: wall", secs(att_seq.push_s), secs(att_c8.push_s), "(photo refs only)",
            no_photos, DASH, DASH)
        row("push with photos: wire bytes / photo bytes", num(div(att_seq.push_bytes, photo_bytes_anchor), 3),
            num(div(att_c8.push_bytes, photo_bytes_anchor), 3), DASH, no_photos, DASH, DASH)

    # No-op sync, per device.
    row("no-op sync, one device: requests", calls(seq.noop_requests, None), calls(c8.noop_requests, None),
        calls(None, am.noop_msgs), num(ours["noop"]["requests"]),
        ratio(c8.noop_requests, ours["noop"]["requests"], *fewer), DASH)
    row("no-op sync, one device: bytes (up+down)", num(seq.noop_bytes), num(c8.noop_bytes),
        num(am.noop_bytes), num(o_noop_bytes),
        ratio(c8.noop_bytes, o_noop_bytes, *fewer), ratio(am.noop_bytes, o_noop_bytes, *fewer))
    ms = lambda x: DASH if x is None else f"{x:,.1f} ms"
    row("no-op sync, one device: median time", ms(seq.noop_ms), ms(c8.noop_ms), ms(am.noop_ms),
        ms(ours["noop"]["wall_s"] * 1000),
        ratio(c8.noop_ms, ours["noop"]["wall_s"] * 1000, *faster),
        ratio(am.noop_ms, ours["noop"]["wall_s"] * 1000, *faster))

    # Fresh pull of grid 17.
    row("fresh pull of one grid: wall", secs(seq.pull_s, 3), secs(c8.pull_s, 3), secs(am.pull_s, 3),
        secs(o_pull_s, 3), ratio(c8.pull_s, o_pull_s, *faster), ratio(am.pull_s, o_pull_s, *faster))
    row("fresh pull of one grid: requests", calls(seq.pull_requests, None), calls(c8.pull_requests, None),
        calls(None, am.pull_msgs), num(ours["pull"]["requests"]),
        ratio(c8.pull_requests, ours["pull"]["requests"], *fewer), DASH)
    row("fresh pull of one grid: bytes (up+down)", num(seq.pull_bytes), num(c8.pull_bytes),
        num(am.pull_bytes), num(o_pull_bytes),
        ratio(c8.pull_bytes, o_pull_bytes, *fewer), ratio(am.pull_bytes, o_pull_bytes, *fewer))
    if photos:
        pp = photos["pull"]
        pp_bytes = pp["bytes_up"] + pp["bytes_down"]
        row("fresh pull with photos: wall", secs(att_seq.pull_s, 3), secs(att_c8.pull_s, 3), DASH,
            secs(pp["wall_s"], 3), ratio(att_c8.pull_s, pp["wall_s"], *faster), DASH)
        row("fresh pull with photos: requests", calls(att_seq.pull_requests, None),
            calls(att_c8.pull_requests, None), DASH, f"{pp['requests']:,} ({photos['pull_files']:,} files)",
            ratio(att_c8.pull_requests, pp["requests"], *fewer), DASH)
        row("fresh pull with photos: bytes (up+down)", num(att_seq.pull_bytes), num(att_c8.pull_bytes),
            DASH, num(pp_bytes), ratio(att_c8.pull_bytes, pp_bytes, *fewer), DASH)
    else:
        for what in ("wall", "requests", "bytes (up+down)"):
            seq_v = {"wall": secs(att_seq.pull_s, 3), "requests": calls(att_seq.pull_requests, None),
                     "bytes (up+down)": num(att_seq.pull_bytes)}[what]
            c8_v = {"wall": secs(att_c8.pull_s, 3), "requests": calls(att_c8.pull_requests, None),
                    "bytes (up+down)": num(att_c8.pull_bytes)}[what]
            row(f"fresh pull with photos: {what}", seq_v, c8_v, DASH, no_photos, DASH, DASH)

    # Goals of issue 18.
    o_push = ours["push"]["wall_s"]
    goals = [
        goal(f"metadata push ≤ 1.0 s ({o_push:.3f} s)", o_push <= 1.0),
        goal("metadata push ≥ 2.5× faster than PouchDB c8 ("
             + (f"×{c8.push_s / o_push:.2f}" if c8.push_s else "PouchDB c8 not measured") + ")",
             None if c8.push_s is None else c8.push_s / o_push >= 2.5),
        goal("push wire bytes ≤ 1.3× the automerge change bytes ("
             + (f"{o_vs_changes:.3f}×" if o_vs_changes is not None else "no change bytes") + ")",
             None if o_vs_changes is None else o_vs_changes <= 1.3),
    ]
    if photos:
        p_bytes = photos["push"]["bytes_up"] + photos["push"]["bytes_down"]
        p_wall, curl = photos["push"]["wall_s"], photos["curl_wall_s"]
        goals += [
            goal(f"push with photos ≤ 1.2× curl's wall time ({p_wall:.2f} s vs {curl:.2f} s, "
                 f"{p_wall / curl:.2f}×; curl to a sink that writes without syncing)", p_wall <= 1.2 * curl),
        ]
        durable = photos.get("curl_durable_wall_s")
        if durable:
            goals.append(goal(
                f"push with photos ≤ 1.2× curl's wall time to a sink that syncs each file, as the "
                f"server does ({p_wall:.2f} s vs {durable:.2f} s, {p_wall / durable:.2f}×)",
                p_wall <= 1.2 * durable))
        goals += [
            goal(f"photo push bytes (up+down) ≤ 1.01× the photo bytes ({p_bytes / photos['photo_bytes']:.4f}×)",
                 p_bytes <= 1.01 * photos["photo_bytes"]),
        ]
    else:
        goals += [goal("push with photos ≤ 1.2× curl's wall time", None),
                  goal("photo push bytes (up+down) ≤ 1.01× the photo bytes", None)]
    goals.append(goal(f"no-op sync: 1 request and < 600 B ({plural(ours['noop']['requests'], 'request')}, "
                      f"{o_noop_bytes:,} B)", ours["noop"]["requests"] == 1 and o_noop_bytes < 600))
    goals.append(goal(f"fresh pull: ≤ 3 requests and < 0.3 s ({plural(ours['pull']['requests'], 'request')}, "
                      f"{o_pull_s:.3f} s)", ours["pull"]["requests"] <= 3 and o_pull_s < 0.3))
    if photos:
        pp = photos["pull"]
        goals.append(goal(f"fresh pull with photos: ≤ 3 requests + 1 per photo file ({pp['requests']:,} "
                          f"requests, {photos['pull_files']:,} files)",
                          pp["requests"] <= 3 + photos["pull_files"]))
    else:
        goals.append(goal("fresh pull with photos: ≤ 3 requests + 1 per photo file", None))

    out = [
        f"{devices} devices × {ours.get('reports_per_device', REPORTS_PER_DEVICE)} reports "
        f"({reports:,} reports). Lower is better in every row. The ratio columns say how "
        "Xiangying compares: \"×2.7 faster\" means the other took 2.7 times as long.",
        "",
        "| phase | PouchDB seq | PouchDB c8 | automerge-repo c8 | Xiangying (c8) "
        "| Xiangying vs PouchDB c8 | Xiangying vs automerge-repo |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    if devices != 150:
        out += [f"This is a smoke run ({devices} devices); the goals are set for 150.", ""]
    for name, r in (("PouchDB without photos", a["noatt"]), ("PouchDB with photos", a["att"]),
                    ("automerge-repo", a["am"])):
        if r and r.get("devices") != devices:
            out += [f"Warning: {name} ran {r.get('devices')} devices, Xiangying {devices}.", ""]
    out += [
        "Goals of issue 18:",
        "",
        *goals,
        "",
        "Notes: PouchDB and automerge-repo count requests and bytes on the server's sockets; "
        "Xiangying counts them in a proxy in front of the server. Both include HTTP heads. "
        "automerge-repo speaks WebSocket, so it has messages, not requests. "
        "Its push and no-op are c8 (seq in brackets); Xiangying pushes 8 devices at a time. "
        "Medians over runs: PouchDB without photos "
        f"{len(a['noatt']['runs']) // 2 if a['noatt'] else 0}, with photos "
        f"{len(a['att']['runs']) if a['att'] else 0}, automerge-repo "
        f"{len(a['am']['runs']) // 2 if a['am'] else 0}, Xiangying {ours.get('runs', 1)} "
        "(the run with the median push; the pull time is the median over runs). "
        "Decision 0045 says what is not comparable.",
        "",
        f"Measured {a['date']} on {machine()}, Node.js {a['node']}, npm {a['npm']}.",
        "",
        "```sh",
        a["command"],
        "```",
        "",
        f"It runs: `{a['anchor_commands']}`.",
    ]
    return "\n".join(out)


def write(doc, body):
    """Replaces what is between the markers in `doc`, adding the section when absent."""
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(doc, "w", encoding="utf-8") as f:
        f.write(f"{head}{BEGIN}\n{body}\n{END}{tail}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pouch-noatt", required=True)
    p.add_argument("--pouch-att", required=True)
    p.add_argument("--am", required=True)
    p.add_argument("--ours", required=True)
    p.add_argument("--doc", required=True)
    p.add_argument("--command", default="scripts/bench-anchors")
    p.add_argument("--anchor-commands", default="")
    p.add_argument("--node", default="?")
    p.add_argument("--npm", default="?")
    args = p.parse_args()
    ours = load(args.ours)
    if ours is None:
        sys.exit(f"anchors_table: no results in {args.ours}")
    a = {
        "noatt": load(args.pouch_noatt),
        "att": load(args.pouch_att),
        "am": load(args.am),
        "date": datetime.date.today().isoformat(),
        "node": args.node.lstrip("v"),
        "npm": args.npm,
        "command": args.command,
        "anchor_commands": args.anchor_commands,
    }
    write(args.doc, section(a, ours))


if __name__ == "__main__":
    main()
