"""Reading pcap and pcapng files into numbered frames.

This is the I/O edge of the pipeline. It yields ``(frame_number, timestamp, linktype, data)``
tuples, one per packet record, numbered exactly as Wireshark numbers frames (1-based, in file
order, every packet record counts whether or not we can decode it).

Why not dpkt's readers as they are: ``dpkt.pcapng.Reader`` honours only the first interface's
link type and timestamp resolution, ignores Simple Packet Blocks and later sections, and builds
several objects per packet; ``dpkt.pcap.Reader`` turns nanosecond timestamps into ``Decimal``
and raises on a truncated record header. We use dpkt's header classes for the rare blocks
(file header, interface description) and walk packet records with ``struct`` over large
buffered reads, which keeps the per-packet cost to one ``unpack_from`` and one slice.

Damage is not fatal: a capture cut short or with an absurd length field ends the iteration
and sets :attr:`CaptureReader.truncated` with a reason; everything before it is kept. So does a
gzip'd capture that inflates beyond reason (a decompression bomb: see MAX_GZIP_RATIO).
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator, Union

import dpkt

from tlsdissect.errors import CaptureError
from tlsdissect.capture.packet import LINKTYPE_ETHERNET, NO_WINDOW, TCP_HEADER_LEN, _eth_ip6_tcp, _eth_ip_tcp, decode_flow

# The TCP data offset byte -> where the payload starts in an Ethernet + IPv4 (no options) or IPv6
# (no extension headers) frame: one addition per frame instead of two.
_PAYLOAD_AT_IPV4: tuple[int, ...] = tuple(14 + 20 + hl for hl in TCP_HEADER_LEN)
_PAYLOAD_AT_IPV6: tuple[int, ...] = tuple(14 + 40 + hl for hl in TCP_HEADER_LEN)

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),  # little-endian, microseconds
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),  # little-endian, nanoseconds
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"

# pcapng block types
_BT_IDB = 0x00000001
_BT_PB = 0x00000002  # obsolete Packet Block
_BT_SPB = 0x00000003
_BT_EPB = 0x00000006
_BT_DSB = 0x0000000A  # Decryption Secrets Block
# Blocks that are no packets but that Wireshark still shows as numbered frames (custom blocks,
# systemd journal entries, sysdig events): counted, never yielded, so frame numbers stay
# Wireshark's. Values from the pcapng draft's block type registry and wiretap/pcapng_module.h.
_BT_NUMBERED_NON_PACKETS = frozenset((
    0x00000BAD, 0x40000BAD,  # Custom Block (copyable / not copyable)
    0x00000009,  # systemd Journal Export Block
    0x00000204, 0x00000208, 0x00000216, 0x00000217, 0x00000221, 0x00000222,  # sysdig events
))
_BT_SHB = 0x0A0D0D0A
# Per byte order: the unpackers of a block's (type, length) and of an Enhanced Packet Block's
# (interface, timestamp high, low, captured length), the original length skipped.
_PCAPNG_HEADS = {e: (struct.Struct(e + "II").unpack_from, struct.Struct(e + "IIII4x").unpack_from) for e in "<>"}
_BOM = 0x1A2B3C4D

# Records longer than this are treated as corruption, not data (Wireshark's own limit for
# most link types is 256 KiB; pcapng blocks carry packets plus options).
MAX_RECORD_LENGTH = 16 * 1024 * 1024
_CHUNK = 4 * 1024 * 1024
# Decompression guard for gzip'd captures: a few megabytes of deflate can inflate to gigabytes
# of nothing (a ratio up to ~1000:1; pcap files compress 2-20:1). Past its first
# GZIP_RATIO_AFTER bytes, reading stops once the capture is MAX_GZIP_RATIO times the compressed
# bytes read, and in any case at MAX_GZIP_OUTPUT; the capture is then read as truncated there.
MAX_GZIP_RATIO = 200
GZIP_RATIO_AFTER = 16 * 1024 * 1024
MAX_GZIP_OUTPUT = 65536 * 1024 * 1024
# CaptureReader.segments' segment part for a frame without a usable TCP segment.
NO_SEGMENT = (None, 0, 0, 0, b"", 0, NO_WINDOW)


def _decoded(frames: Iterator[tuple[int, float, int, bytes]]) -> Iterator[tuple[Any, ...]]:
    """segments() of a pcapng file: each frame with decode_flow's result, flat (the pcap reader
    decodes its common frames in its own loop instead)."""
    for frame, ts, linktype, data in frames:
        yield (frame, ts, linktype) + (decode_flow(linktype, data) or NO_SEGMENT)

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]


@dataclass
class Interface:
    """A pcapng interface (or the single implicit interface of a pcap file)."""

    linktype: int
    snaplen: int = 0
    ts_unit: float = 1e-6
    ts_offset: int = 0
    name: str = ""


@dataclass
class DecryptionSecrets:
    """A pcapng Decryption Secrets Block: key material embedded in the capture."""

    secrets_type: int
    data: bytes


@dataclass
class CaptureInfo:
    """What we learnt about the file itself while reading it."""

    format: str = ""  # "pcap" | "pcapng"
    compressed: bool = False
    interfaces: list[Interface] = field(default_factory=list)
    secrets: list[DecryptionSecrets] = field(default_factory=list)
    frames: int = 0  # (set when the iteration ends)
    bytes_read: int = 0
    truncated: bool = False
    truncation_reason: str = ""


class _Buffered:
    """Large buffered reads with cheap random access to the current window."""

    def __init__(self, f: BinaryIO, initial: bytes = b""):
        self.f = f
        # read1: what is there, up to the size asked (one read of the underlying stream), so that
        # a live pipe (tcpdump -w - | tlsdissect -) is decoded as packets arrive, not 4 MiB at a time.
        self.read = getattr(f, "read1", f.read)
        self.buf = initial
        self.pos = 0
        self.consumed = 0  # bytes before buf[0] in the stream
        self.eof = False

    def ensure(self, n: int) -> bool:
        """Make ``n`` bytes available at ``self.pos``; False when the stream ends first."""
        avail = len(self.buf) - self.pos
        if avail >= n:
            return True
        if self.eof:
            return False
        parts = [self.buf[self.pos:]]
        self.consumed += self.pos
        self.pos = 0
        while avail < n:
            chunk = self.read(max(_CHUNK, n - avail))
            if not chunk:
                self.eof = True
                break
            parts.append(chunk)
            avail += len(chunk)
        self.buf = b"".join(parts)
        return avail >= n

    def window(self) -> tuple[bytes, int, int]:
        """(buffer, position, buffer length): what the readers' loops keep in locals."""
        return self.buf, self.pos, len(self.buf)

    @property
    def offset(self) -> int:
        return self.consumed + self.pos


def _open_source(source: Source) -> tuple[BinaryIO, bool, str]:
    """Open a path, bytes or file object; returns (binary stream, we_own_it, display name)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), True, "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path == "-":
            import sys

            return sys.stdin.buffer, False, "<stdin>"
        try:
            return open(path, "rb"), True, path
        except FileNotFoundError:
            raise CaptureError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise CaptureError(f"{path}: is a directory, not a capture file") from None
        except OSError as e:
            raise CaptureError(f"{path}: cannot open ({e.strerror or e})") from None
    if hasattr(source, "read"):
        return source, False, getattr(source, "name", "<stream>")
    raise CaptureError(f"cannot read a capture from a {type(source).__name__}")


class CaptureReader:
    """Iterate the packet records of a pcap/pcapng (optionally gzip'd) capture.

    Iterating yields ``(frame_number, timestamp, linktype, data)``; ``data`` is ``bytes``.
    After iteration, :attr:`info` tells the format, interfaces, embedded secrets and whether
    the file was truncated or corrupt (and where).
    """

    def __init__(self, source: Source):
        f, owned, name = _open_source(source)
        self.name = name
        self._owned = owned
        self.info = CaptureInfo()
        # Decryption Secrets Blocks read since the consumer last emptied this list (a cheaper
        # test per frame than comparing info.secrets' length with what was seen).
        self.new_secrets: list[DecryptionSecrets] = []
        self._raw = f
        head = f.read(4)
        if not isinstance(head, (bytes, bytearray)):
            raise CaptureError(f"{name}: opened in text mode; open capture files in binary mode ('rb')")
        if head[:2] == GZIP_MAGIC:
            compressed = _Prepend(head, f)
            self._stream: BinaryIO = _Inflated(gzip.GzipFile(fileobj=compressed), compressed)  # type: ignore[assignment]
            self.info.compressed = True
            try:
                head = self._stream.read(4)
            except (OSError, EOFError, zlib.error) as e:
                raise CaptureError(f"{name}: damaged gzip data ({e})") from None
        else:
            self._stream = f
        if len(head) == 0:
            raise CaptureError(f"{name}: empty file")
        if len(head) < 4:
            raise CaptureError(f"{name}: too short to be a capture ({len(head)} bytes)")
        if head in PCAP_MAGICS:
            self.info.format = "pcap"
        elif head == PCAPNG_MAGIC:
            self.info.format = "pcapng"
        else:
            raise CaptureError(f"{name}: not a pcap or pcapng capture ({_describe(head)})")
        self._head = head

    @property
    def position(self) -> int:
        """Bytes of the (decompressed) capture read so far, for progress reports."""
        b = getattr(self, "_buffered", None)
        return b.offset if b is not None else 0

    def raw_stream(self) -> _Buffered:
        """The (decompressed) capture from its first byte, buffered, for a walk of its own
        (capture.rewrite copies the records); not together with iterating this reader."""
        return _Buffered(self._stream, self._head)

    def close(self) -> None:
        if self._owned:
            self._raw.close()

    def __enter__(self) -> "CaptureReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _truncate(self, reason: str) -> None:
        self.info.truncated = True
        self.info.truncation_reason = reason

    def __iter__(self) -> Iterator[tuple[int, float, int, bytes]]:
        return self._records(False)

    def segments(self) -> Iterator[tuple[Any, ...]]:
        """Iterate ``(frame_number, timestamp, linktype, key, seq, ack, flags, payload, ttl, window)``
        instead: ``key``... are packet.decode_flow's result for the frame, flat (NO_SEGMENT,
        key None, when it carries no usable TCP segment). The analysis reads this way: the
        common frame is decoded in the reading loop itself, which saves a call and a tuple per
        frame."""
        return self._records(True)

    def _records(self, decode: bool) -> Iterator[tuple[Any, ...]]:
        # The format's generator itself, not one that delegates to it: a ``yield from`` layer
        # costs a resume per frame. Each generator handles read errors and bytes_read itself.
        # (pcapng's segments do take that layer, _decoded: one decode per frame in one place.)
        b = _Buffered(self._stream, self._head)
        self._buffered = b
        if self.info.format == "pcap":
            return self._iter_pcap(b, decode)
        frames = self._iter_pcapng(b)
        return _decoded(frames) if decode else frames

    def _need(self, b: _Buffered, n: int, cut_short: str) -> bool:
        """Refill so that ``n`` bytes are buffered at ``b.pos``; when the capture ends first,
        False, and a truncation (``cut_short``) unless it ended cleanly between records."""
        if b.ensure(n):
            return True
        if len(b.buf) - b.pos:
            self._truncate(cut_short)
        return False

    def _read_error(self, e: Exception, frame: int) -> None:
        """A damaged gzip stream, a decompression bomb or an I/O error (after ``frame``) ends the
        capture like a truncation."""
        if isinstance(e, DecompressionLimit):
            self._truncate(f"{e} (after frame {frame})")
        else:
            self._truncate(f"read error after frame {frame}: {e}")

    # -- pcap ---------------------------------------------------------------------------
    def _iter_pcap(self, b: _Buffered, decode: bool) -> Iterator[tuple[Any, ...]]:
        # The frames so far live in a local; info.frames is set from it when the iteration ends
        # (in whichever way: the "finally"), not once per frame.
        frame = 0
        try:
            if not b.ensure(24):
                raise CaptureError(f"{self.name}: pcap file header cut short")
            endian, unit = PCAP_MAGICS[b.buf[:4]]
            hdr_cls = dpkt.pcap.LEFileHdr if endian == "<" else dpkt.pcap.FileHdr
            fh = hdr_cls(b.buf[:24])
            # Only the low 16 bits are the link type; the upper 16 may carry the FCS length and
            # its "present" bit (0x04000000), as libpcap's LT_LINKTYPE() masks them off.
            linktype = fh.linktype & 0xFFFF
            ethernet = decode and linktype == LINKTYPE_ETHERNET
            self.info.interfaces.append(Interface(linktype=linktype, snaplen=fh.snaplen, ts_unit=unit))
            b.pos = 24
            rec = struct.Struct(endian + "III4x")  # seconds, fraction, captured length (not the original length)
            unpack = rec.unpack_from
            buf = b.buf
            buflen = len(buf)
            pos = 24
            # The seconds as a float, converted once per distinct value: float + float is a fast
            # path of the interpreter, int + float a slow one (the same value either way).
            last_sec = -1
            fsec = 0.0
            while True:
                start = pos + 16
                if start > buflen:
                    if not self._need(b, 16, f"capture cut short inside the header of frame {frame + 1}"):
                        break
                    buf, pos, buflen = b.window()
                    start = pos + 16
                sec, frac, caplen = unpack(buf, pos)
                if caplen > MAX_RECORD_LENGTH:
                    self._truncate(
                        f"corrupt record header at frame {frame + 1} (captured length {caplen} bytes)"
                    )
                    break
                pos = start + caplen
                if pos > buflen:
                    if not self._need(b, 16 + caplen, f"capture cut short inside frame {frame + 1}"):
                        break
                    buf, start, buflen = b.window()
                    start += 16
                    pos = start + caplen
                b.pos = pos
                frame += 1
                if sec != last_sec:
                    last_sec = sec
                    fsec = float(sec)
                if not decode:
                    yield frame, fsec + frac * unit, linktype, buf[start:pos]
                    continue
                if ethernet and caplen >= 54:
                    # decode_flow's fast paths for Ethernet + IPv4 (no options, not a fragment) or
                    # IPv6 (no extension headers) + TCP, here in the loop: no call per frame for
                    # the common cases (the same results, see tests/test_pkt_segments.py); the
                    # rest goes to decode_flow. The headers are read in the buffer itself: the
                    # frame is never copied, only its payload (and the flow key, by the unpack).
                    etype, vihl, total, frag, ttl, proto, key, seq, ack, off, flags, window = _eth_ip_tcp(
                        buf, start + 12)
                    # (frag 0x4000, Don't Fragment alone, is the common case: tested first, without
                    # the slower "&")
                    if etype == 0x0800 and vihl == 0x45 and proto == 6 and (frag == 0x4000 or not frag & 0x3FFF) \
                            and off >= 0x50:
                        end = start + 14 + total
                        if total < 20 or end > pos:
                            end = pos
                        p = start + _PAYLOAD_AT_IPV4[off]
                        yield (frame, fsec + frac * unit, linktype,
                               key, seq, ack, flags, buf[p:end] if p < end else b"", ttl, window)
                        continue
                    if etype == 0x86DD and 0x60 <= vihl <= 0x6F and caplen >= 74:  # (version 6)
                        plen, nxt, hops, key, seq, ack, off, flags, window = _eth_ip6_tcp(buf, start + 18)
                        if nxt == 6 and off >= 0x50:
                            end = start + 54 + plen
                            if not plen or end > pos:
                                end = pos
                            p = start + _PAYLOAD_AT_IPV6[off]
                            yield (frame, fsec + frac * unit, linktype,
                                   key, seq, ack, flags, buf[p:end] if p < end else b"", hops, window)
                            continue
                yield (frame, fsec + frac * unit, linktype) + (decode_flow(linktype, buf[start:pos]) or NO_SEGMENT)
        except (OSError, EOFError, zlib.error) as e:
            self._read_error(e, frame)
        finally:
            self.info.frames = frame
        self.info.bytes_read = b.offset

    # -- pcapng -------------------------------------------------------------------------
    def _iter_pcapng(self, b: _Buffered) -> Iterator[tuple[int, float, int, bytes]]:
        frame = 0  # (info.frames is set from it when the iteration ends, as in _iter_pcap)
        try:
            endian = "<"
            block_head, epb_head = _PCAPNG_HEADS[endian]
            ifaces: list[Interface] = []
            # The buffer, its length and the position live in locals (b.pos is kept current
            # for ensure() and progress reports); ensure() is called only when a block does
            # not fit in what is buffered.
            buf = b.buf
            buflen = len(buf)
            pos = b.pos
            while True:
                if pos + 12 > buflen:
                    if not self._need(b, 12, f"capture cut short inside a block after frame {frame}"):
                        break
                    buf, pos, buflen = b.window()
                btype, blen = block_head(buf, pos)
                if btype == _BT_SHB:  # (the same in either byte order)
                    # Section Header Block: byte order comes from its byte-order magic.
                    bom_le = struct.unpack_from("<I", buf, pos + 8)[0]
                    if bom_le == _BOM:
                        endian = "<"
                    elif struct.unpack_from(">I", buf, pos + 8)[0] == _BOM:
                        endian = ">"
                    else:
                        self._truncate(f"corrupt section header block after frame {frame}")
                        break
                    block_head, epb_head = _PCAPNG_HEADS[endian]
                    btype, blen = block_head(buf, pos)
                    ifaces = []  # interface ids restart in every section
                if blen < 12 or blen % 4 or blen > MAX_RECORD_LENGTH:
                    self._truncate(f"corrupt block length {blen} after frame {frame}")
                    break
                if pos + blen > buflen:
                    if not self._need(b, blen, f"capture cut short inside a block after frame {frame}"):
                        break
                    buf, pos, buflen = b.window()
                body = pos + 8
                end = pos + blen - 4
                pos += blen
                b.pos = pos
                if btype == _BT_EPB:
                    if end - body < 20:
                        self._truncate(f"corrupt packet block at frame {frame + 1}")
                        break
                    if_id, ts_hi, ts_lo, caplen = epb_head(buf, body)
                    frame += 1
                    if caplen > end - body - 20:
                        caplen = end - body - 20  # clipped by the block: keep what is there
                    iface = ifaces[if_id] if if_id < len(ifaces) else None
                    if iface is None:
                        continue  # no interface description: undecodable, but still a frame
                    # ((ts_hi << 32) | ts_lo), with the two operations the interpreter has fast paths for
                    ts = (ts_hi * 0x100000000 + ts_lo) * iface.ts_unit + iface.ts_offset
                    yield frame, ts, iface.linktype, buf[body + 20:body + 20 + caplen]
                elif btype == _BT_SPB:
                    frame += 1
                    if end - body < 4 or not ifaces:
                        continue
                    origlen = struct.unpack_from(endian + "I", buf, body)[0]
                    iface = ifaces[0]
                    caplen = min(origlen, end - body - 4)
                    if iface.snaplen:
                        caplen = min(caplen, iface.snaplen)
                    # A Simple Packet Block has no timestamp.
                    yield frame, 0.0, iface.linktype, buf[body + 4:body + 4 + caplen]
                elif btype == _BT_PB:
                    if end - body < 20:
                        self._truncate(f"corrupt packet block at frame {frame + 1}")
                        break
                    if_id, _drops, ts_hi, ts_lo, caplen, _orig = struct.unpack_from(
                        endian + "HHIIII", buf, body
                    )
                    frame += 1
                    caplen = min(caplen, end - body - 20)
                    iface = ifaces[if_id] if if_id < len(ifaces) else None
                    if iface is None:
                        continue
                    ts = (ts_hi * 0x100000000 + ts_lo) * iface.ts_unit + iface.ts_offset
                    yield frame, ts, iface.linktype, buf[body + 20:body + 20 + caplen]
                elif btype == _BT_IDB:
                    if blen < 20:  # no room for link type and snap length
                        self._truncate(f"corrupt interface description block after frame {frame}")
                        break
                    iface = _parse_idb(bytes(buf[body - 8:end + 4]), endian)
                    ifaces.append(iface)
                    self.info.interfaces.append(iface)
                elif btype == _BT_DSB:
                    if end - body >= 8:
                        stype, slen = struct.unpack_from(endian + "II", buf, body)
                        slen = min(slen, end - body - 8)
                        dsb = DecryptionSecrets(stype, bytes(buf[body + 8:body + 8 + slen]))
                        self.info.secrets.append(dsb)
                        self.new_secrets.append(dsb)
                elif btype in _BT_NUMBERED_NON_PACKETS:
                    frame += 1
                # every other block (SHB body, NRB, ISB...) carries no packets

        except (OSError, EOFError, zlib.error) as e:
            self._read_error(e, frame)
        finally:
            self.info.frames = frame
        self.info.bytes_read = b.offset


def _parse_idb(block: bytes, endian: str) -> Interface:
    """Interface Description Block -> link type, snaplen, timestamp unit and offset."""
    linktype, _res, snaplen = struct.unpack_from(endian + "HHI", block, 8)
    iface = Interface(linktype=linktype, snaplen=snaplen)
    try:
        cls = dpkt.pcapng.InterfaceDescriptionBlockLE if endian == "<" else dpkt.pcapng.InterfaceDescriptionBlock
        idb = cls(block)
        opts = [(o.code, bytes(o.data)) for o in idb.opts]
    except Exception:  # dpkt is strict about option padding; fall back to our own walk
        opts = _walk_options(block[16:-4], endian)
    for code, value in opts:
        if code == 9 and len(value) >= 1:  # if_tsresol
            v = value[0]
            iface.ts_unit = 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -(v & 0x7F)
        elif code == 14 and len(value) >= 8:  # if_tsoffset, seconds
            iface.ts_offset = struct.unpack_from(endian + "q", value)[0]
        elif code == 2:  # if_name
            iface.name = value.rstrip(b"\0").decode("utf-8", "replace")
    return iface


def _walk_options(data: bytes, endian: str) -> list[tuple[int, bytes]]:
    out = []
    pos = 0
    while pos + 4 <= len(data):
        code, length = struct.unpack_from(endian + "HH", data, pos)
        if code == 0:
            break
        out.append((code, data[pos + 4:pos + 4 + length]))
        pos += 4 + ((length + 3) & ~3)
    return out


class DecompressionLimit(OSError):
    """A gzip'd capture inflated past MAX_GZIP_RATIO or MAX_GZIP_OUTPUT (read as a truncation)."""


class _Inflated:
    """A gzip stream's ``read`` that refuses to inflate without bound (see MAX_GZIP_RATIO)."""

    def __init__(self, gz: gzip.GzipFile, compressed: "_Prepend") -> None:
        self.gz = gz
        self.compressed = compressed  # (counts the compressed bytes read)
        self.inflated = 0

    def read(self, n: int = -1) -> bytes:
        data = self.gz.read(n)
        self.inflated = out = self.inflated + len(data)
        if out > MAX_GZIP_OUTPUT:
            raise DecompressionLimit(f"the gzip'd capture inflates past {MAX_GZIP_OUTPUT >> 20} MiB; "
                                     "reading stopped there")
        if out > GZIP_RATIO_AFTER and out > MAX_GZIP_RATIO * self.compressed.consumed:
            raise DecompressionLimit(
                f"the gzip'd capture inflates more than {MAX_GZIP_RATIO}:1 ({out >> 20} MiB from "
                f"{self.compressed.consumed >> 10} KiB: a decompression bomb?); reading stopped there")
        return data


class _Prepend(io.RawIOBase):
    """A file object that first returns some already-read bytes, then the rest of ``f``."""

    def __init__(self, head: bytes, f: BinaryIO):
        self.head = head
        self.f = f
        self.consumed = 0  # bytes returned so far

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:  # (b: a writable buffer, bytearray or memoryview)
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
        else:
            data = self.f.read(len(b))
            n = len(data)
            b[:n] = data
        self.consumed += n
        return n


def _describe(head: bytes) -> str:
    """Name the most common things people feed us by mistake."""
    known = {
        b"%PDF": "a PDF document",
        b"PK\x03\x04": "a ZIP archive",
        b"\x7fELF": "an ELF executable",
        b"\x89PNG": "a PNG image",
    }
    for magic, what in known.items():
        if head.startswith(magic):
            return f"it looks like {what}"
    if head[:2] in (b"\x16\x03",):
        return "it looks like raw TLS bytes, not a packet capture"
    if all(32 <= c < 127 or c in (9, 10, 13) for c in head):
        return "it looks like a text file"
    return f"unknown magic bytes {head.hex()}"
