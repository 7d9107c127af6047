#!/usr/bin/env python3
"""Runs a command REPEAT times under /usr/bin/time and prints its best wall time (measured here,
finely), best user time (10 ms resolution) and the largest peak RSS of a run. /usr/bin/time is a small C process, so the child's peak RSS is
the command's own (a child forked from Python would report Python's RSS from before exec).
    bench/measure.py REPEAT CMD...   ->   wall_s=... user_s=... maxrss_kib=...
"""
import subprocess
import sys
import tempfile
import time


def run_once(cmd):
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%e %U %M", *cmd],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
        _, user, rss = report.read().split()[-3:]
        return wall, float(user), int(rss)


def main():
    repeat, cmd = int(sys.argv[1]), sys.argv[2:]
    runs = [run_once(cmd) for _ in range(repeat)]
    print(f"wall_s={min(r[0] for r in runs):.4f} user_s={min(r[1] for r in runs):.3f} "
          f"maxrss_kib={max(r[2] for r in runs)}")


if __name__ == "__main__":
    main()
