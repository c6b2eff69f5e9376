#!/usr/bin/python3
"""synmill's anonymous memory (smaps_rollup "Anonymous", as the bench's hold
scenario weighs it) one second after 'synmill: ready', with an echo listener
and whatever options follow:

    bench/start_memory.py [BUILD_DIR] [synmill options...]

e.g. bench/start_memory.py build --max-conns 1000000. Issue 12: no pool is
touched in full at start-up, so this stays flat whatever the table sizes."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "harness"))
import procs  # noqa: E402


def main():
    args = sys.argv[1:]
    build = args.pop(0) if args and not args[0].startswith("-") else os.path.join(procs.REPO, "build")
    memif = procs.Memif("start-memory")
    memif.cleanup()
    sm = procs.Synmill(os.path.abspath(build), "start-memory", memif, ["--listen", "7:echo"] + args)
    try:
        time.sleep(1.0)
        print(f"synmill anonymous memory at start: {sm.anon_kib()} KiB (RSS {sm.rss_kib()} KiB), options {args}")
    finally:
        sm.stop()
        memif.cleanup()
        procs.stop_all()


if __name__ == "__main__":
    main()
