"""tcpdump on the loopback while a block runs: the recording the capture builders of
tests/data/*/build.py share (run as root, in a network namespace of their own).

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/data
    from recording import recording

    with recording(HERE / "NAME.pcap", "tcp port 4433"):
        ...  # start the peers, run the client, stop the server (its close is recorded too)
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_SECONDS = 1.0  # tcpdump needs about this long before it sees the first packet
FLUSH_SECONDS = 1.0  # and this long after the last one for the late ACKs and FINs


@contextmanager
def recording(pcap: Path, bpf: str = "tcp") -> Iterator[None]:
    """Write the loopback's packets matching ``bpf`` to ``pcap`` while the block runs."""
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-w", str(pcap), bpf],
                            stderr=subprocess.DEVNULL)
    time.sleep(START_SECONDS)
    try:
        yield
    finally:
        time.sleep(FLUSH_SECONDS)
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
