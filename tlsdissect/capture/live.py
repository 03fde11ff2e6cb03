"""Packets from a network interface as they arrive: the live counterpart of ``reader.CaptureReader``.

The socket is scapy's (``L2ListenSocket``: a Linux ``PF_PACKET`` socket with the BPF filter
compiled by libpcap and attached in the kernel, VLAN tags put back from the kernel's auxiliary
data, nanosecond timestamps); this module only turns what it receives into what the reader hands
out, ``segments()``: ``(frame, timestamp, linktype) + decode_flow(...)``, frames numbered as
tcpdump writing the same traffic to a file would number them. So a live run takes the same
decoding path as a file, and gives the same verdicts.

Two things a file has and a socket lacks are made here:

- time goes on without packets: every ``TICK_SECONDS`` of wall-clock time a *tick* (key None,
  flags ``packet.TICK``, the current time) is handed out, so that the pipeline retires the
  connections that ended even when the interface falls quiet;
- an end: :meth:`LiveCapture.stop` (safe from a signal handler or another thread) or the
  ``duration`` ends the iteration at the next tick, as the end of a file would, once the packets
  already queued in the socket are read (for at most ``DRAIN_SECONDS``).

On the loopback interface Linux hands a packet socket every packet twice, once going out and once
coming in; like libpcap, only the incoming copy is kept. Capturing needs root or the CAP_NET_RAW
capability; without it, or for an interface that does not exist, or a filter that does not
compile, :class:`~tlsdissect.errors.CaptureError` says so in words; an interface that goes away
during the capture ends it as a cut file ends (``info.truncated``, with the reason).
"""

from __future__ import annotations

import select
import socket
import struct
import time
from typing import Any, Callable, Iterator, Optional, Protocol

from tlsdissect.capture.packet import NO_WINDOW, SUPPORTED_LINKTYPES, TICK, decode_flow
from tlsdissect.capture.reader import NO_SEGMENT, CaptureInfo, DecryptionSecrets, Interface
from tlsdissect.errors import CaptureError

TICK_SECONDS = 0.25  # wall-clock time between ticks (and the longest a stop() waits to be seen)
# At the stop, the packets the kernel queued before it are still read (they were captured), for at
# most this long: a busy interface whose packets come faster than they are analysed cannot hold
# the stop off.
DRAIN_SECONDS = 2.0
SNAPLEN = 262_144  # bytes read of a packet at most (libpcap's default; GRO can merge segments past 64 KiB)
ARPHRD_LOOPBACK = 772  # the loopback device's hardware type (linux/if_arp.h)
PACKET_OUTGOING = 4  # a packet socket's "sent by this host" packet type (linux/if_packet.h)
# The socket's receive buffer, where packets wait while the analysis is busy: asked for with
# SO_RCVBUFFORCE (root or CAP_NET_ADMIN may pass net.core.rmem_max), else what SO_RCVBUF gives.
# Kernel memory, used only as packets queue up; libpcap's default ring is 2 MiB.
BUFFER_BYTES = 32 * 1024 * 1024
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
SOL_PACKET = 263
PACKET_STATISTICS = 6  # struct tpacket_stats {unsigned packets, drops}, reset by each read
PRIVILEGE_HINT = ("capturing needs root or the CAP_NET_RAW capability: run with sudo, or give the Python "
                  "interpreter the capability (sudo setcap cap_net_raw+ep \"$(readlink -f \"$(command -v python3)\")\"), "
                  "or capture with tcpdump -w and read the file")


class PacketSource(Protocol):
    """What LiveCapture reads from (an open capture socket; tests give it others)."""

    linktype: int
    loopback: bool

    def fileno(self) -> int: ...

    def receive(self) -> Optional[tuple[float, bytes, int]]:
        """(timestamp, frame bytes, packet type) of one packet, None when nothing came."""

    def drops(self) -> int:
        """Packets the kernel dropped since the last call (the reader was too slow)."""

    def close(self) -> None: ...


class _ScapySource:
    """scapy's L2ListenSocket on one interface, as a PacketSource."""

    def __init__(self, sock: Any, linktype: int, hatype: int) -> None:
        self.sock = sock
        self.linktype = linktype
        self.loopback = hatype == ARPHRD_LOOPBACK

    def fileno(self) -> int:
        return int(self.sock.ins.fileno())

    def receive(self) -> Optional[tuple[float, bytes, int]]:
        # scapy's own L2Socket.recv_raw reads this way: the frame, its sockaddr_ll (packet type at
        # [2]) and the kernel's timestamp, with VLAN tags reinserted from PACKET_AUXDATA.
        data, sa_ll, ts = self.sock._recv_raw(self.sock.ins, SNAPLEN)
        if not data:
            return None
        return (ts if ts is not None else time.time()), data, sa_ll[2]

    def drops(self) -> int:
        try:
            raw = self.sock.ins.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        except OSError:
            return 0
        return int(struct.unpack("II", raw)[1])

    def close(self) -> None:
        self.sock.close()


def open_interface(iface: str, bpf: Optional[str] = None) -> PacketSource:
    """Open a capture socket on ``iface`` with the BPF filter ``bpf`` (tcpdump's syntax)."""
    import logging

    try:
        import scapy.arch  # noqa: F401  (sets conf.L2listen for this platform)
        from scapy.config import conf
        from scapy.data import ARPHRD_TO_DLT
        from scapy.error import Scapy_Exception
    except ImportError:
        raise CaptureError("live capture needs scapy: pip install 'tlsdissect[live]'") from None
    if not hasattr(socket, "AF_PACKET"):
        raise CaptureError("live capture works on Linux only (packet sockets); elsewhere, capture with "
                           "tcpdump -w and read the file")
    names = [name for _, name in socket.if_nameindex()]
    if iface == "any" and iface not in names:
        raise CaptureError(f"the 'any' pseudo-interface is not supported: name one of {', '.join(sorted(names))}")
    if iface not in names:
        raise CaptureError(f"no network interface named {iface!r} (here: {', '.join(sorted(names)) or 'none'})")
    quiet = logging.getLogger("scapy.runtime")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # (scapy warns that it has no layer class for some link types: we need none)
    try:
        sock = conf.L2listen(iface=iface, filter=bpf)
    except PermissionError:
        raise CaptureError(f"no permission to capture on {iface}: {PRIVILEGE_HINT}") from None
    except Scapy_Exception as e:
        raise CaptureError(f"capture filter {bpf!r}: {str(e).removeprefix('Cannot set filter: ')}") from None
    except ValueError as e:  # scapy: "Interface 'x' not found !" (it went away since the check)
        raise CaptureError(f"{iface}: {e}") from None
    except OSError as e:
        raise CaptureError(f"cannot capture on {iface}: {e.strerror or e}") from None
    finally:
        quiet.setLevel(level)
    try:
        sock.ins.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, BUFFER_BYTES)
    except OSError:  # no CAP_NET_ADMIN: scapy's SO_RCVBUF, as far as net.core.rmem_max allows
        pass
    hatype = sock.ins.getsockname()[3]
    linktype = ARPHRD_TO_DLT.get(hatype, -1)
    if linktype not in SUPPORTED_LINKTYPES:
        sock.close()
        raise CaptureError(f"{iface}: its link layer (hardware type {hatype}, link type {linktype}) is not one "
                           f"tlsdissect decodes ({', '.join(sorted(set(SUPPORTED_LINKTYPES.values())))})")
    return _ScapySource(sock, linktype, hatype)


class LiveCapture:
    """Iterate the packets of a live interface as ``CaptureReader.segments()`` does a file's.

    ``name``, ``info``, ``new_secrets``, ``position`` and ``close`` are the reader's, so the
    pipeline takes either. ``duration`` (seconds) ends the capture on its own.
    """

    def __init__(self, source: PacketSource, name: str, *, duration: Optional[float] = None,
                 clock: Callable[[], float] = time.time, tick: float = TICK_SECONDS) -> None:
        self.source = source
        self.name = name
        self.info = CaptureInfo(format="live", interfaces=[Interface(linktype=source.linktype, snaplen=SNAPLEN,
                                                                     ts_unit=1e-9, name=name)])
        self.new_secrets: list[DecryptionSecrets] = []  # (a socket carries no key material)
        self.duration = duration
        self.clock = clock
        self.tick = tick
        self.dropped = 0  # packets the kernel dropped because we read too slowly
        self.stopping = False
        self.closed = False

    @property
    def position(self) -> int:
        return self.info.bytes_read

    def stop(self) -> None:
        """End the iteration at the next tick (from a signal handler or another thread)."""
        self.stopping = True

    def __iter__(self) -> Iterator[tuple[int, float, int, bytes]]:
        for frame, ts, linktype, data in self._frames():
            if data is not None:
                yield frame, ts, linktype, data

    def segments(self) -> Iterator[tuple[Any, ...]]:
        """(frame, timestamp, linktype) + decode_flow's result, as CaptureReader.segments; and a tick
        (key None, flags TICK, the time) every ``tick`` seconds."""
        tick_part = (None, 0, 0, TICK, b"", 0, NO_WINDOW)
        for frame, ts, linktype, data in self._frames():
            if data is None:
                yield (frame, ts, linktype) + tick_part
            else:
                yield (frame, ts, linktype) + (decode_flow(linktype, data) or NO_SEGMENT)

    def _frames(self) -> Iterator[tuple[int, float, int, Optional[bytes]]]:
        """(frame, time, linktype, bytes) per packet; bytes None for a tick."""
        src = self.source
        linktype = src.linktype
        fd = src.fileno()
        clock = self.clock
        start = clock()
        end = None if self.duration is None else start + self.duration
        next_tick = start + self.tick
        drain_until: Optional[float] = None  # set at the stop: the packets queued by then are read first
        frame = 0
        try:
            while True:
                now = clock()
                if drain_until is None and (self.stopping or (end is not None and now >= end)):
                    drain_until = now + DRAIN_SECONDS
                if drain_until is not None and now >= drain_until:
                    break
                if now >= next_tick:
                    next_tick = now + self.tick
                    yield frame, now, linktype, None
                    continue
                wait = 0.0 if drain_until is not None else next_tick - now if end is None else min(next_tick, end) - now
                try:
                    if not select.select([fd], [], [], max(wait, 0.0))[0]:
                        if drain_until is not None:
                            break  # nothing more queued
                        continue
                    got = src.receive()
                except OSError as e:  # the interface went away or down: the end, as a cut file's
                    self.info.truncated = True
                    self.info.truncation_reason = f"capturing on {self.name} failed after frame {frame}: " \
                                                  f"{e.strerror or e}"
                    break
                if got is None:
                    continue
                ts, data, pkttype = got
                if pkttype == PACKET_OUTGOING and src.loopback:
                    continue  # the outgoing copy of a loopback packet: its incoming copy follows
                frame += 1
                self.info.frames = frame
                self.info.bytes_read += len(data)
                yield frame, ts, linktype, data
        finally:
            self.dropped += src.drops()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.dropped += self.source.drops()
            self.source.close()

    def __enter__(self) -> "LiveCapture":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_live(iface: str, bpf: Optional[str] = None, *, duration: Optional[float] = None) -> LiveCapture:
    """A LiveCapture of ``iface`` (packets matching ``bpf``, tcpdump's filter syntax), for
    ``duration`` seconds or until stopped. Raises CaptureError (no permission, no such interface,
    a filter that does not compile, scapy missing)."""
    return LiveCapture(open_interface(iface, bpf), iface, duration=duration)
