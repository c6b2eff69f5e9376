#!/usr/bin/python3
"""A userspace netem between the kernel and synmill, for kernels without
sch_netem: run inside the test's namespace, it creates a tap for the kernel
side (KERNEL_IF, which the test then addresses) and relays Ethernet frames
between it and synmill's tap (SYNMILL_IF, an AF_PACKET socket), dropping
LOSS% of them and delaying the rest by DELAY_MS except REORDER% sent at once
(netem's "loss 5% delay 1ms reorder 10%"), in both directions.

    impair.py SYNMILL_IF KERNEL_IF LOSS DELAY_MS REORDER SECONDS

The kernel tap has no vnet header, so the kernel hands it whole, checksummed
frames (no TSO/GSO super-frames). Prints one JSON line of counts at the end
(after SECONDS, or on SIGTERM)."""
import fcntl
import heapq
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def main():
    syn_if, kern_if = sys.argv[1], sys.argv[2]
    loss, delay, reorder = float(sys.argv[3]) / 100, float(sys.argv[4]) / 1000, float(sys.argv[5]) / 100
    seconds = float(sys.argv[6])
    tun = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", kern_if.encode(), IFF_TAP | IFF_NO_PI))
    pkt = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    pkt.bind((syn_if, 0))
    pkt.setblocking(False)
    pkt.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rng = random.Random(int.from_bytes(os.urandom(8), "big"))
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    counts = {"to_synmill": 0, "to_kernel": 0, "dropped": 0, "reordered": 0}
    queue = []  # (release time, seq, direction, frame)
    seq = 0
    print(json.dumps({"ready": True}), flush=True)
    end = time.monotonic() + seconds

    def send(direction, frame):
        try:
            if direction == "to_synmill":
                pkt.send(frame)
            else:
                os.write(tun, frame)
            counts[direction] += 1
        except (BlockingIOError, OSError):
            counts["dropped"] += 1

    def take(direction, frame):
        nonlocal seq
        if rng.random() < loss:
            counts["dropped"] += 1
            return
        if rng.random() < reorder:
            counts["reordered"] += 1
            send(direction, frame)
            return
        seq += 1
        heapq.heappush(queue, (time.monotonic() + delay, seq, direction, frame))

    while not stop[0] and time.monotonic() < end:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else 0.05
        r, _, _ = select.select([tun, pkt], [], [], timeout)
        if tun in r:
            for _ in range(64):
                try:
                    take("to_synmill", os.read(tun, 65536))
                except BlockingIOError:
                    break
        if pkt in r:
            for _ in range(64):
                try:
                    frame, addr = pkt.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] != PACKET_OUTGOING:  # what synmill sent, not what we injected
                    take("to_kernel", frame)
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, direction, frame = heapq.heappop(queue)
            send(direction, frame)
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
