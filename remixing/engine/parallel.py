"""How many threads the engine's parallel steps may use.

Rubber Band (pedalboard), scipy's polyphase resampler and filters, libebur128 and numpy's
large loops all release the GIL, so threads spread a render over cores without processes.
"""

from __future__ import annotations

import os


def available_cores() -> int:
    """Cores this process may run on (its affinity mask, not the machine's count): a
    container or a ``taskset`` limit is what the render really gets."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
