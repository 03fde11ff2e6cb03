"""pcapng blocks as bytes: the few that ``--annotate`` writes, and comments added to a packet block.

Layouts from the pcapng specification (draft-ietf-opsawg-pcapng): every block is ``type, total
length, body, total length`` (32-bit words in the section's byte order, the body padded to 32
bits); options are ``code, length, value`` padded to 32 bits and closed by ``opt_endofopt``.

Why not a library: dpkt's pcapng writer takes float timestamps in microseconds (a nanosecond
capture would lose its resolution), writes one section of its own blocks and has no Decryption
Secrets Block; scapy's PcapNgWriter also fixes the resolution at microseconds and rebuilds the
interfaces from link types (their names and options are lost); python-pcapng has no Decryption
Secrets Block and rebuilds every block from its object model. Copying the input's blocks as they
are and building only the new ones keeps everything the analyst had, so the writing is here:
pure functions from values to bytes, no I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Optional

BT_SHB = 0x0A0D0D0A
BT_IDB = 0x00000001
BT_PB = 0x00000002  # obsolete Packet Block (has options, like the EPB)
BT_EPB = 0x00000006
BT_DSB = 0x0000000A
BYTE_ORDER_MAGIC = 0x1A2B3C4D

OPT_ENDOFOPT = 0
OPT_COMMENT = 1
SHB_USERAPPL = 4
IF_TSRESOL = 9
IF_FCSLEN = 13

SECRETS_TLS_KEY_LOG = 0x544C534B  # "TLSK": NSS key log text
MAX_OPTION_VALUE = 0xFFFF  # an option's length field is 16 bits
# The packet data and the options of an EPB or PB start 20 bytes into the block's body.
PACKET_HEADER = 20


def _pad(n: int) -> int:
    return (4 - n % 4) % 4


def option(code: int, value: bytes, endian: str = "<") -> bytes:
    """One option: code, length, value, zero padding to 32 bits."""
    if len(value) > MAX_OPTION_VALUE:
        raise ValueError(f"option {code}: {len(value)} bytes, more than an option holds ({MAX_OPTION_VALUE})")
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * _pad(len(value))


def options_list(options: Sequence[tuple[int, bytes]], endian: str = "<") -> bytes:
    """Options closed by opt_endofopt; nothing at all for no options."""
    if not options:
        return b""
    return b"".join(option(c, v, endian) for c, v in options) + struct.pack(endian + "HH", OPT_ENDOFOPT, 0)


def block(block_type: int, body: bytes, endian: str = "<") -> bytes:
    """A whole block: type, total length, body padded to 32 bits, total length again."""
    body += b"\0" * _pad(len(body))
    total = len(body) + 12
    return struct.pack(endian + "II", block_type, total) + body + struct.pack(endian + "I", total)


def section_header(user_application: str = "", endian: str = "<") -> bytes:
    """Section Header Block, version 1.0, section length unknown (-1)."""
    opts = [(SHB_USERAPPL, user_application.encode("utf-8"))] if user_application else []
    body = struct.pack(endian + "IHHq", BYTE_ORDER_MAGIC, 1, 0, -1) + options_list(opts, endian)
    return block(BT_SHB, body, endian)


def interface_description(linktype: int, snaplen: int, tsresol: Optional[int] = None,
                          fcs_bits: Optional[int] = None, endian: str = "<") -> bytes:
    """Interface Description Block; ``tsresol`` is if_tsresol's byte (None: microseconds, the
    default), ``fcs_bits`` if_fcslen (the FCS length a pcap header's upper bits give)."""
    opts = []
    if tsresol is not None:
        opts.append((IF_TSRESOL, bytes([tsresol])))
    if fcs_bits is not None:
        opts.append((IF_FCSLEN, bytes([fcs_bits])))
    return block(BT_IDB, struct.pack(endian + "HHI", linktype, 0, snaplen) + options_list(opts, endian), endian)


def enhanced_packet(interface: int, timestamp: int, data: bytes, original_length: int,
                    comments: Sequence[bytes] = (), endian: str = "<") -> bytes:
    """Enhanced Packet Block; ``timestamp`` in the interface's units, split into high and low
    32 bits as the block stores it."""
    head = struct.pack(endian + "IIIII", interface, (timestamp >> 32) & 0xFFFFFFFF, timestamp & 0xFFFFFFFF,
                       len(data), original_length)
    body = head + data + b"\0" * _pad(len(data)) + options_list([(OPT_COMMENT, c) for c in comments], endian)
    return block(BT_EPB, body, endian)


def decryption_secrets(secrets_type: int, data: bytes, endian: str = "<") -> bytes:
    """Decryption Secrets Block holding ``data`` (for TLS: key log lines)."""
    return block(BT_DSB, struct.pack(endian + "II", secrets_type, len(data)) + data, endian)


def with_comments(packet_block: bytes, comments: Sequence[bytes], endian: str) -> Optional[bytes]:
    """An Enhanced (or obsolete) Packet Block with ``comments`` added after the options it has,
    everything else byte for byte; None when the block's own layout does not hold together
    (captured length past the block, options running past it), so that it is kept unchanged."""
    if not comments:
        return packet_block
    if len(packet_block) < 12 + PACKET_HEADER:
        return None
    block_type, total = struct.unpack_from(endian + "II", packet_block)
    body_end = total - 4
    if block_type not in (BT_EPB, BT_PB) or total != len(packet_block) or body_end - 8 < PACKET_HEADER:
        return None
    caplen = struct.unpack_from(endian + "I", packet_block, 8 + 12)[0]
    opts_at = 8 + PACKET_HEADER + caplen + _pad(caplen)
    if opts_at > body_end:
        return None
    kept_end = _options_end(packet_block, opts_at, body_end, endian)
    if kept_end is None:
        return None
    new = b"".join(option(OPT_COMMENT, c, endian) for c in comments) + struct.pack(endian + "HH", OPT_ENDOFOPT, 0)
    body = packet_block[8:kept_end] + new
    return block(block_type, body, endian)


def _options_end(blk: bytes, pos: int, end: int, endian: str) -> Optional[int]:
    """Where the options from ``pos`` stop, opt_endofopt left out (new options go there); None
    for options that run past ``end``."""
    while pos + 4 <= end:
        code, length = struct.unpack_from(endian + "HH", blk, pos)
        if code == OPT_ENDOFOPT:
            return pos
        pos += 4 + length + _pad(length)
        if pos > end:
            return None
    return pos if pos == end else None


def comment_options(blk: bytes, endian: str) -> list[bytes]:
    """The opt_comment values of an Enhanced Packet Block (for tests and checks)."""
    caplen = struct.unpack_from(endian + "I", blk, 8 + 12)[0]
    pos = 8 + PACKET_HEADER + caplen + _pad(caplen)
    out = []
    end = len(blk) - 4
    while pos + 4 <= end:
        code, length = struct.unpack_from(endian + "HH", blk, pos)
        if code == OPT_ENDOFOPT:
            break
        if code == OPT_COMMENT:
            out.append(blk[pos + 4:pos + 4 + length])
        pos += 4 + length + _pad(length)
    return out
