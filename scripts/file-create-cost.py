#!/usr/bin/env python3
"""Measures what making a small file costs on this disk, before and after a large delete.

Decision 0058: on ext4 without a journal a new file skips every inode freed in the last
minute, looking each one up, so a file made right after a large `rm -rf` costs more. This
script makes 20,000 files, waits for the disk to settle (`sync` and 65 s), times 5,000 new
ones, deletes the 20,000, times 5,000 more at once, settles, and times 5,000 again. It
prints the wall and CPU time a file for each; it takes about three minutes and writes under
the folder it is given (default: a new temp folder), which it removes at the end.

Usage: scripts/file-create-cost.py [FOLDER]
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

SETTLE_S = 65


def make(folder, n):
    """Makes n files of 100 bytes in a new folder; returns (wall s, CPU s)."""
    os.makedirs(folder)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        with open(os.path.join(folder, f"f{i}"), "wb") as f:
            f.write(b"x" * 100)
    return time.perf_counter() - wall, time.process_time() - cpu


def settle():
    subprocess.run(["sync"], check=True)
    time.sleep(SETTLE_S)


def report(state, timed, n=5000):
    wall, cpu = timed
    print(f"{state}: {wall / n * 1e6:.0f} us wall, {cpu / n * 1e6:.0f} us CPU a file")


def main():
    parent = sys.argv[1] if len(sys.argv) > 1 else None
    base = tempfile.mkdtemp(prefix="file-create-cost.", dir=parent)
    try:
        make(os.path.join(base, "many"), 20000)
        settle()
        report(f"after 20,000 files, sync and {SETTLE_S} s", make(os.path.join(base, "a"), 5000))
        shutil.rmtree(os.path.join(base, "many"))
        report("right after deleting the 20,000", make(os.path.join(base, "b"), 5000))
        settle()
        report(f"then after sync and {SETTLE_S} s", make(os.path.join(base, "c"), 5000))
    finally:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
