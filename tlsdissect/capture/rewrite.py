"""A capture written again as pcapng, with comments on chosen frames and key material embedded.

What ``--annotate`` needs from the capture stage: every packet record of the input (pcap or
pcapng, gzip'd or not) copied in order, so that frame N of the output is frame N of the input
(the frame numbers of our findings are Wireshark's, counted as ``reader`` counts them), with
its packet bytes, timestamp (in the input's own resolution), link type and interface unchanged.

- pcap in: one Section Header Block, one Interface Description Block (the file's link type and
  snap length; if_tsresol 9 for a nanosecond pcap, if_fcslen when the header's upper bits give an
  FCS length), then one Enhanced Packet Block per record with the record's own seconds and
  fraction as the timestamp.
- pcapng in: every block copied byte for byte (sections, interfaces, statistics, name
  resolution, existing secrets and comments), except the packet blocks of commented frames,
  whose comments are added after the options they already have.

Decryption Secrets Blocks come right after the first Section Header Block, before any packet,
as the specification asks. A comment for a frame that cannot carry one (a Simple Packet Block, a
block whose own layout is damaged, a frame past where the input is cut short) is counted in
``comments_not_placed``. A damaged input ends the copy where the reader stops reading it, with
``truncated`` and the reason set: the output holds the same frames the analysis saw.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from tlsdissect.capture import pcapng_blocks as blocks
from tlsdissect.capture.reader import (
    _BT_NUMBERED_NON_PACKETS, _BT_SPB, MAX_RECORD_LENGTH, PCAP_MAGICS, CaptureReader, DecompressionLimit, Source,
)
from tlsdissect.errors import CaptureError

_FCS_PRESENT = 0x04000000  # a pcap header's link-type field: the FCS length is in its top 4 bits


@dataclass
class RewriteResult:
    """What the copy did: frames written, comments placed and not, secrets blocks added, and
    whether the input was cut short (then the output ends at the same frame)."""

    input_format: str = ""
    frames: int = 0
    commented_frames: int = 0
    comments: int = 0
    comments_not_placed: int = 0
    secrets_blocks: int = 0
    truncated: bool = False
    truncation_reason: str = ""


class _Copy:
    """One copy's state: the buffered input, the output and the counts."""

    def __init__(self, reader: CaptureReader, out: BinaryIO, comments: Mapping[int, Sequence[bytes]],
                 secrets: Sequence[tuple[int, bytes]], user_application: str) -> None:
        self.b = reader.raw_stream()
        self.out = out
        self.comments = comments
        self.secrets = secrets
        self.user_application = user_application
        self.result = RewriteResult(input_format=reader.info.format)

    def cut(self, reason: str) -> None:
        self.result.truncated = True
        self.result.truncation_reason = reason

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes (callers ensure() them first)."""
        b = self.b
        data = bytes(b.buf[b.pos:b.pos + n])
        b.pos += n
        return data

    def more(self, n: int, cut_short: str) -> bool:
        """``n`` bytes available, else False (and a truncation when bytes were left over)."""
        if self.b.ensure(n):
            return True
        if len(self.b.buf) - self.b.pos:
            self.cut(cut_short)
        return False

    def write_secrets(self, endian: str) -> None:
        for secrets_type, data in self.secrets:
            self.out.write(blocks.decryption_secrets(secrets_type, data, endian))
            self.result.secrets_blocks += 1

    def frame_comments(self, frame: int) -> Sequence[bytes]:
        found = self.comments.get(frame, ())
        if found:
            self.result.commented_frames += 1
            self.result.comments += len(found)
        return found

    def not_placed(self, frame: int) -> None:
        found = self.comments.get(frame, ())
        self.result.comments_not_placed += len(found)

    # -- pcap -----------------------------------------------------------------------------
    def pcap(self) -> None:
        if not self.b.ensure(24):
            raise CaptureError("pcap file header cut short")
        head = self.take(24)
        endian, unit = PCAP_MAGICS[head[:4]]
        snaplen, link_field = struct.unpack_from(endian + "II", head, 16)
        per_second = 10 ** 9 if unit == 1e-9 else 10 ** 6
        fcs_bits = (link_field >> 28) * 16 if link_field & _FCS_PRESENT else None
        self.out.write(blocks.section_header(self.user_application))
        self.write_secrets("<")
        self.out.write(blocks.interface_description(link_field & 0xFFFF, snaplen,
                                                    9 if per_second == 10 ** 9 else None, fcs_bits))
        record = struct.Struct(endian + "IIII")
        frame = 0
        while True:
            if not self.more(16, f"capture cut short inside the header of frame {frame + 1}"):
                break
            sec, frac, caplen, origlen = record.unpack_from(self.b.buf, self.b.pos)
            if caplen > MAX_RECORD_LENGTH:
                self.cut(f"corrupt record header at frame {frame + 1} (captured length {caplen} bytes)")
                break
            if not self.more(16 + caplen, f"capture cut short inside frame {frame + 1}"):
                break
            self.b.pos += 16
            data = self.take(caplen)
            frame = self.result.frames = frame + 1
            self.out.write(blocks.enhanced_packet(0, sec * per_second + frac, data, origlen,
                                                  self.frame_comments(frame)))

    # -- pcapng ---------------------------------------------------------------------------
    def pcapng(self) -> None:
        endian = "<"
        frame = 0
        sections = 0
        while True:
            if not self.more(12, f"capture cut short inside a block after frame {frame}"):
                break
            buf, pos = self.b.buf, self.b.pos
            btype, blen = struct.unpack_from(endian + "II", buf, pos)
            if btype == blocks.BT_SHB:
                if struct.unpack_from("<I", buf, pos + 8)[0] == blocks.BYTE_ORDER_MAGIC:
                    endian = "<"
                elif struct.unpack_from(">I", buf, pos + 8)[0] == blocks.BYTE_ORDER_MAGIC:
                    endian = ">"
                else:
                    self.cut(f"corrupt section header block after frame {frame}")
                    break
                blen = struct.unpack_from(endian + "I", buf, pos + 4)[0]
            if blen < 12 or blen % 4 or blen > MAX_RECORD_LENGTH:
                self.cut(f"corrupt block length {blen} after frame {frame}")
                break
            if not self.more(blen, f"capture cut short inside a block after frame {frame}"):
                break
            raw = self.take(blen)
            if btype in (blocks.BT_EPB, blocks.BT_PB):
                if blen - 12 < blocks.PACKET_HEADER:
                    self.cut(f"corrupt packet block at frame {frame + 1}")
                    break
                frame = self.result.frames = frame + 1
                raw = self._commented(raw, frame, endian)
            elif btype == _BT_SPB or btype in _BT_NUMBERED_NON_PACKETS:
                frame = self.result.frames = frame + 1
                self.not_placed(frame)  # (no options in a Simple Packet Block)
            self.out.write(raw)
            if btype == blocks.BT_SHB:
                sections += 1
                if sections == 1:
                    self.write_secrets(endian)

    def _commented(self, raw: bytes, frame: int, endian: str) -> bytes:
        found = self.comments.get(frame, ())
        if not found:
            return raw
        new = blocks.with_comments(raw, found, endian)
        if new is None or len(new) > MAX_RECORD_LENGTH:
            self.not_placed(frame)
            return raw
        self.frame_comments(frame)
        return new


def rewrite_as_pcapng(source: Source, out: BinaryIO, comments: Mapping[int, Sequence[bytes]],
                      secrets: Sequence[tuple[int, bytes]] = (), user_application: str = "") -> RewriteResult:
    """Copy the capture ``source`` to ``out`` as pcapng, adding ``comments[frame]`` (UTF-8 text,
    made safe by the caller) to each frame and one Decryption Secrets Block per ``(secrets type,
    data)``. Raises CaptureError when ``source`` is no capture at all."""
    with CaptureReader(source) as reader:
        copy = _Copy(reader, out, comments, secrets, user_application)
        try:
            if reader.info.format == "pcap":
                copy.pcap()
            else:
                copy.pcapng()
        except DecompressionLimit as e:
            copy.cut(f"{e} (after frame {copy.result.frames})")
        except (OSError, EOFError, zlib.error) as e:
            copy.cut(f"read error: {e}")
    result = copy.result
    result.comments_not_placed += sum(len(v) for f, v in comments.items() if f > result.frames)
    return result
