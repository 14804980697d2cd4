#!/usr/bin/env python3
"""Prints the bench/scale table from the files run.sh leaves in its directory.

Usage: report.py WORK_DIR

Per refresh stage: wall seconds as the refresh reports them (`cdp run
--json`), CPU seconds (utime+stime of the process over the stage's window,
interpolated between samples) and peak resident memory (largest VmRSS
sample inside the window). Windows are placed on the wall clock from the
run's started_at (catalog, microseconds) plus the durations of the stages
before, so bookkeeping between stages (a few ms) shifts them slightly; a
stage shorter than the sampling interval has at most one sample, marked '~'
(the figure is the next sample after it started). The whole-run line is
from wait4's rusage (exact peak RSS of the process, user+sys CPU).
"""
import datetime
import json
import os
import re
import sys


def read(work, name):
    with open(os.path.join(work, name)) as f:
        return f.read()


def gnu_time(work, name):
    wall, user, sys_, max_kb = read(work, name + ".time").split()[-4:]
    return float(wall), float(user) + float(sys_), int(max_kb) / 1024


def samples(work, name):
    out = []
    for line in read(work, name).splitlines():
        t, rss, hwm, cpu = line.split("\t")
        out.append((float(t), int(rss) / 1024, int(hwm) / 1024, float(cpu)))
    return out


def parse_ts(s):
    s = s.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S"
    return datetime.datetime.strptime(s, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()


def cpu_at(ss, t):
    """CPU seconds of the process at wall time t, linear between samples."""
    if not ss:
        return None
    if t <= ss[0][0]:
        return ss[0][3]
    for a, b in zip(ss, ss[1:]):
        if a[0] <= t <= b[0]:
            f = (t - a[0]) / (b[0] - a[0]) if b[0] > a[0] else 0
            return a[3] + f * (b[3] - a[3])
    return ss[-1][3]


def window(ss, t0, t1):
    inside = [s for s in ss if t0 <= s[0] <= t1]
    if inside:
        return max(s[1] for s in inside), ""
    after = [s for s in ss if s[0] >= t0]
    if after:
        return after[0][1], "~"
    return None, ""


def ms(v):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v)
    if not m:
        return None
    x = float(m.group(1))
    return {"us": x / 1000, "ms": x, "s": x * 1000, "m": x * 60000}[m.group(2)]


def main():
    work = sys.argv[1]
    rows = []  # step, seconds, cpu, peak MB, note

    def add(step, sec, cpu, mb, note=""):
        f = lambda v, d: "" if v is None else (f"{v:.{d}f}" if isinstance(v, float) else str(v))
        rows.append((step, f(sec, 2), f(cpu, 1), f(mb, 0) if mb is None or isinstance(mb, float) else mb, note))

    gen = json.loads(read(work, "generate.json"))
    src_rows = sum(f.get("rows", 0) for f in gen.get("files", []))
    wall, cpu, mb = gnu_time(work, "generate")
    add("demo generate", wall, cpu, mb, f"{src_rows:,} source rows in {len(gen.get('files', []))} files")
    wall, cpu, mb = gnu_time(work, "apply")
    add("apply", wall, cpu, mb)

    run = json.loads(read(work, "run.json"))
    runs = json.loads(read(work, "runs.json"))
    rec = runs[0] if isinstance(runs, list) else runs.get("runs", [runs])[0]
    ss = samples(work, "run.samples")
    t = parse_ts(rec["started_at"])
    stage_sum = 0.0
    t_exec = float(read(work, "run.time").split()[0])
    if ss:
        add("  (exec until the refresh starts)", t - t_exec, cpu_at(ss, t), window(ss, t_exec, t)[0])
    for s in run["stages"]:
        d = float(s["seconds"])
        stage_sum += d
        if s["status"] == "skipped":
            add("  " + s["stage"], d, None, None, "skipped: " + s.get("message", ""))
            t += d
            continue
        peak, mark = window(ss, t, t + d)
        c0, c1 = cpu_at(ss, t), cpu_at(ss, t + d)
        note = f"rows in {s['rows_in']:,} out {s['rows_out']:,}"
        if s["status"] != "succeeded":
            note += f" [{s['status']}]"
        add("  " + s["stage"], d, None if c0 is None else c1 - c0,
            None if peak is None else (f"{peak:.0f}{mark}"), note)
        t += d
    wall, cpu, mb = gnu_time(work, "run")
    gap = ""
    if rec.get("seconds"):
        gap = f"; refresh {float(rec['seconds']):.2f} s, stages sum {stage_sum:.2f} s"
    add("cdp run (whole process)", wall, cpu, mb, f"rusage{gap}")

    for name, label in (("serve1", "cdp serve start (1st)"), ("serve2", "cdp serve start (2nd)")):
        if not os.path.exists(os.path.join(work, name + ".start")):
            continue
        sec, rss_kb, cpu = read(work, name + ".start").split()
        sss = samples(work, name + ".samples") if os.path.exists(os.path.join(work, name + ".samples")) else []
        hwm = max((s[2] for s in sss if s[0] <= sss[0][0] + float(sec)), default=None) if sss else None
        note = f"RSS at ready {int(rss_kb) / 1024:.0f} MiB" + (f" (peak while starting {hwm:.0f} MiB)" if hwm else "")
        add(label, float(sec), float(cpu), int(rss_kb) / 1024, note)
    if os.path.exists(os.path.join(work, "wrk.txt")):
        w = read(work, "wrk.txt")
        rps = re.search(r"Requests/sec:\s+([\d.]+)", w)
        pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", w, re.M))
        errs = re.search(r"RESULT errors=(\d+)", w)
        conn = re.search(r"(\d+) connections", w)
        nreq = re.search(r"(\d+) requests in", w)
        after = read(work, "serve1.after").split()
        note = (f"{float(rps.group(1)) if rps else 0:.0f} req/s ({nreq.group(1) if nreq else '?'} requests), "
                f"{conn.group(1) if conn else '?'} conn, "
                f"errors {errs.group(1) if errs else '?'}; RSS after load {int(after[0]) / 1024:.0f} MiB, "
                f"peak {int(after[1]) / 1024:.0f} MiB")
        p50, p99 = ms(pct.get("50", "")), ms(pct.get("99", ""))
        rows.append(("card latency p50 / p99 (ms)", f"{p50:.2f} / {p99:.2f}" if p50 is not None and p99 is not None
                     else "?", "", f"{int(after[1]) / 1024:.0f}", note))
    src = int(read(work, "du.sources"))
    wsb = int(read(work, "du.workspace"))
    rows.append(("data on disk", "", "", "", f"sources {src / 1e6:,.0f} MB, workspace {wsb / 1e6:,.0f} MB"))

    print(read(work, "header.txt").rstrip())
    print(read(work, "load.txt").rstrip())
    head = ("step", "seconds", "CPU s", "peak RSS MiB", "notes")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(4)]
    line = lambda r: "| " + " | ".join(r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i])
                                       for i in range(4)) + " | " + r[4] + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|---|")
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    main()
