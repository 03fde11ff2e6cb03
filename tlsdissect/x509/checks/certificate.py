"""Each certificate on its own: validity at the capture time, key and signature strength,
critical extensions the client does not know, encoding faults and parts that could not be read."""

from __future__ import annotations

from datetime import datetime, timezone

from tlsdissect.x509.checks.validity import validity_period
from tlsdissect.x509.findings import _cap, _ChainContext
from tlsdissect.x509.info import CertificateInfo
from tlsdissect.x509.security_levels import (
    level_refusing_ecc, level_refusing_modulus, level_refusing_signature_hash, refused_from)

WEAK_HASHES = frozenset({"md2", "md4", "md5", "sha1"})
MIN_RSA_DSA_BITS = 2048
MIN_EC_BITS = 224
# Browsers and OpenSSL stopped accepting these around these dates; earlier captures get a warning only.
SHA1_REJECTED_FROM = datetime(2017, 1, 1, tzinfo=timezone.utc)
WEAK_KEY_REJECTED_FROM = datetime(2014, 1, 1, tzinfo=timezone.utc)


def certificate_checks(ctx: _ChainContext, index: int, at: datetime | None) -> None:
    """Checks of one certificate on its own; ``at`` None when the capture clock is not credible."""
    info = ctx.parsed[index].info
    era = at if at is not None else datetime.max.replace(tzinfo=timezone.utc)
    who = _cap(ctx.who(index))
    if at is not None:
        validity_period(ctx, index, who, at)
    _key_strength(ctx, index, info, who, era)
    _signature_strength(ctx, index, info, who, era)
    _readability(ctx, index, info, who)


def _key_strength(ctx: _ChainContext, index: int, info: CertificateInfo, who: str, era: datetime) -> None:
    """``weak_key``: an RSA or DSA key under 2048 bits, an EC key under 224; a warning only when
    the capture predates the clients that reject them."""
    weak = False
    if info.key_type in ("RSA", "RSA-PSS", "DSA") and info.key_size is not None and info.key_size < MIN_RSA_DSA_BITS:
        weak = True
    if info.key_type == "EC" and info.key_size is not None and info.key_size < MIN_EC_BITS:
        weak = True
    if weak and info.key_size is not None:  # (weak implies a known size)
        then = era < WEAK_KEY_REJECTED_FROM
        ctx.add(
            "weak_key",
            "warning" if then else "error",
            f"{who} has a {info.key_size}-bit {info.key_type} key; browsers reject {info.key_type} keys under "
            f"{MIN_EC_BITS if info.key_type == 'EC' else MIN_RSA_DSA_BITS} bits"
            + _level_words(level_refusing_ecc(info.key_size) if info.key_type == "EC"
                           else level_refusing_modulus(info.key_size))
            + (" (clients of the capture's time still accepted it)." if then else "."),
            [index],
        )


def _level_words(level: int | None) -> str:
    """", and OpenSSL clients refuse it from security level N (...)" (nothing when no level does)."""
    words = refused_from(level)
    return f", and {words}" if words else ""


def _signature_strength(ctx: _ChainContext, index: int, info: CertificateInfo, who: str, era: datetime) -> None:
    """``weak_signature``: signed with MD5 or SHA-1 (a warning for SHA-1 before clients rejected it)."""
    if info.signature_hash in WEAK_HASHES and not info.self_signed:
        then = info.signature_hash == "sha1" and era < SHA1_REJECTED_FROM
        ctx.add(
            "weak_signature",
            "warning" if then else "error",
            f"{who} is signed with {info.signature_algorithm} ({info.signature_hash.upper()}); "
            "current clients reject certificates signed with MD5 or SHA-1"
            + _level_words(level_refusing_signature_hash(info.signature_hash))
            + (" (clients of the capture's time still accepted SHA-1)." if then else "."),
            [index],
        )


def _readability(ctx: _ChainContext, index: int, info: CertificateInfo, who: str) -> None:
    """What a client may not be able to read: ``unknown_critical_extension``,
    ``nonconforming_encoding``, ``certificate_field_error``."""
    if info.unknown_critical_extensions:
        ctx.add(
            "unknown_critical_extension",
            "warning",
            f"{who} has critical extensions clients do not know "
            f"({', '.join(info.unknown_critical_extensions)}); RFC 5280 makes them reject it.",
            [index],
        )
    if info.encoding_warnings:
        ctx.add(
            "nonconforming_encoding",
            "info" if info.self_signed else "warning",
            f"{who} breaks RFC 5280 encoding rules ({'; '.join(info.encoding_warnings)}); lenient clients "
            "accept it, strict parsers may not.",
            [index],
        )
    if info.field_errors:
        unread = (
            " Its extensions (names, key usages, constraints) could not be read, so they were not checked."
            if info.extensions_read == "none"
            else ""
        )
        ctx.add(
            "certificate_field_error",
            "warning",
            f"Parts of {ctx.who(index)} could not be decoded ({'; '.join(info.field_errors)}); strict "
            f"clients may reject it.{unread}",
            [index],
        )
