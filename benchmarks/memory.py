"""The process's peak resident memory, phase by phase.

`ru_maxrss` only ever grows, so a later phase cannot be told apart from an earlier, larger
one. Linux also keeps the peak as VmHWM in /proc/self/status, and writing "5" to
/proc/self/clear_refs resets it to the current size: a peak per phase. Where that is not
allowed, the phase's peak is ru_maxrss (the process's peak so far).
"""

from __future__ import annotations

import resource


def _vm_hwm_kib() -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Peak:
    """`reset()` before a phase, `read_mb()` after it: the resident peak during the phase."""

    def __init__(self) -> None:
        self.resettable = False

    def reset(self) -> None:
        try:
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")
            self.resettable = True
        except OSError:
            self.resettable = False

    def read_mb(self) -> float:
        hwm = _vm_hwm_kib() if self.resettable else None
        return (hwm if hwm is not None else self.max_rss_kib()) / 1024

    @staticmethod
    def max_rss_kib() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    def max_rss_mb(self) -> float:
        return self.max_rss_kib() / 1024
