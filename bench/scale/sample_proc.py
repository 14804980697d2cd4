#!/usr/bin/env python3
"""Samples one process's resident memory and CPU time until it exits (bench/scale).

Usage: sample_proc.py PID OUT.tsv [INTERVAL_SECONDS]
       sample_proc.py --run OUT.tsv INTERVAL_SECONDS TIME_FILE -- COMMAND [ARGS...]

The second form starts COMMAND itself (stdin/stdout/stderr inherited), so
sampling starts at its exec, and when it exits writes TIME_FILE as GNU
time's '%e %U %S %M' would (wall s, user s, sys s, peak RSS kB; the last
three from wait4's rusage, exact), preceded by the unix time of the start,
and exits with COMMAND's exit code.

Every INTERVAL (default 0.1 s) appends a line
  unix_seconds  vm_rss_kb  vm_hwm_kb  cpu_seconds
where vm_rss/vm_hwm come from /proc/PID/status (resident set now / its peak
so far) and cpu_seconds is utime+stime of the whole process (all threads)
from /proc/PID/stat. The last line is written just before the process is
reaped, so vm_hwm of the last line is the process's peak (to within one
interval of the end). Reads /proc only; the sampled process is not touched.
"""
import os
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def read_sample(pid):
    rss = hwm = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # Fields after the command name (which may hold spaces) in parentheses.
    rest = stat[stat.rindex(")") + 2:].split()
    cpu = (int(rest[11]) + int(rest[12])) / TICKS  # utime, stime (fields 14, 15)
    return rss, hwm, cpu


def run_mode(argv):
    if len(argv) < 6 or argv[4] != "--":
        sys.exit("usage: sample_proc.py --run OUT.tsv INTERVAL_SECONDS TIME_FILE -- COMMAND [ARGS...]")
    out, interval, time_file, cmd = argv[1], float(argv[2]), argv[3], argv[5:]
    if not 0.01 <= interval <= 10:
        sys.exit(f"sample_proc.py: INTERVAL_SECONDS must be in [0.01, 10], got {interval}")
    t0 = time.time()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    with open(out, "w") as f:
        while True:
            try:
                rss, hwm, cpu = read_sample(pid)
                if rss is not None:
                    f.write(f"{time.time():.3f}\t{rss}\t{hwm}\t{cpu:.2f}\n")
                    f.flush()
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
            done, status, ru = os.wait4(pid, os.WNOHANG)
            if done == pid:
                break
            time.sleep(interval)
    wall = time.time() - t0
    with open(time_file, "w") as f:
        f.write(f"{t0:.3f} {wall:.2f} {ru.ru_utime:.2f} {ru.ru_stime:.2f} {ru.ru_maxrss}\n")
    sys.exit(os.waitstatus_to_exitcode(status))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        run_mode(sys.argv[1:])
    if len(sys.argv) < 3:
        sys.exit("usage: sample_proc.py PID OUT.tsv [INTERVAL_SECONDS]")
    pid = int(sys.argv[1])
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    if not 0.01 <= interval <= 10:
        sys.exit(f"sample_proc.py: INTERVAL_SECONDS must be in [0.01, 10], got {interval}")
    with open(sys.argv[2], "w") as out:
        while True:
            try:
                rss, hwm, cpu = read_sample(pid)
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                break
            if rss is None:  # a zombie has no memory lines: it has exited
                break
            out.write(f"{time.time():.3f}\t{rss}\t{hwm}\t{cpu:.2f}\n")
            out.flush()
            time.sleep(interval)


if __name__ == "__main__":
    main()
