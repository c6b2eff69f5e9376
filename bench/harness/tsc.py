"""The TSC's rate, measured from Python: converts a share of a second (what
dperf reports) into TSC cycles (what synmill reports).

x86-64 only: a five-instruction rdtsc function in an executable mapping,
called through ctypes, timed against CLOCK_MONOTONIC. Elsewhere (or where
an executable mapping is refused) hz() returns None."""
import ctypes
import mmap
import platform
import time

# rdtsc; shl rdx, 32; or rax, rdx; ret
_CODE = bytes([0x0F, 0x31, 0x48, 0xC1, 0xE2, 0x20, 0x48, 0x09, 0xD0, 0xC3])
_keep = []


def _rdtsc():
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        buf = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except (OSError, ValueError, AttributeError):
        return None
    buf.write(_CODE)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    fn = ctypes.CFUNCTYPE(ctypes.c_uint64)(addr)
    _keep.append(buf)
    return fn


def hz(seconds=0.5, tries=3):
    """TSC ticks per second: the median of `tries` intervals of `seconds`."""
    rdtsc = _rdtsc()
    if rdtsc is None:
        return None
    rates = []
    for _ in range(tries):
        c0, t0 = rdtsc(), time.monotonic_ns()
        time.sleep(seconds)
        c1, t1 = rdtsc(), time.monotonic_ns()
        rates.append((c1 - c0) * 1e9 / (t1 - t0))
    return sorted(rates)[len(rates) // 2]
