"""The suggested check command, for any server name a capture can hold: a shell reads it as
exactly the argv we mean, the name one argument, or there is no command and a reason instead.
A shell here is bash: ``#`` starts a comment (the templates' notes), hence ``comments=True``."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings, strategies as st

from tlsdissect.diagnosis.causes import CAUSES, check_command, suggested_check

WITH_CHECK = sorted(c.id for c in CAUSES.values() if c.check)
HOST, PORT = "192.0.2.10", "8443"


def _intended(cause: str, name: str, host: str = HOST, port: str = PORT) -> list[str]:
    """The template read by a shell with placeholders standing in, then the values put in whole
    (an IPv6 address in brackets where a port follows it)."""
    template = CAUSES[cause].check.replace("{host}", "HOSTMARK").replace("{port}", "PORTMARK") \
        .replace("{sni}", "NAMEMARK").replace("{starttls}", "smtp")  # (suggested_check's default protocol)
    ported = {"HOSTMARK:": f"[{host}]:" if ":" in host else f"{host}:",
              "NAMEMARK:": f"[{name}]:" if ":" in name else f"{name}:"}
    words = []
    for w in shlex.split(template, comments=True):
        for mark, value in ported.items():
            w = w.replace(mark, value)
        words.append(w.replace("HOSTMARK", host).replace("PORTMARK", port).replace("NAMEMARK", name))
    return words


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=80) | st.from_regex(r"[A-Za-z0-9_-]{1,20}(\.[A-Za-z0-9_-]{1,20}){0,3}\.?", fullmatch=True),
       cause=st.sampled_from(WITH_CHECK))
def test_any_name_gives_the_intended_argv_or_a_reason(name: str, cause: str) -> None:
    command, withheld = suggested_check(cause, HOST, PORT, name)
    assert (command is None) != (withheld is None)
    if command is not None:
        assert shlex.split(command, comments=True) == _intended(cause, name or HOST)
        assert command.isprintable() and command.isascii()
    else:
        assert "not a DNS name or an IP address" in withheld


@pytest.mark.parametrize("name", [
    "a.example;touch pwned;#", "$(id>pwned)", "`id`.example", "x.example && rm -rf ~", "a b.example",
    "x.example\nid", "x.example\x1b[2J", "-oProxyCommand=id", "x.-bad-.example", "xn--bcher-kva.example\u202e",
    "bücher.example", "a..example", ".example", "a" * 64 + ".example", ("a" * 63 + ".") * 4 + "com",
    "fe80::1%eth0;id", "[::1]", "1.2.3.4 ", "*.example.com", "",
])
def test_a_name_that_is_no_host_name_gets_no_command(name: str) -> None:
    command, withheld = suggested_check("server_cert_untrusted", "", PORT, name)
    assert command is None and withheld, name


@pytest.mark.parametrize("name", [
    "www.lab.test", "WWW.Example.COM.", "under_score.internal", "xn--bcher-kva.example", "a" * 63 + ".example",
    "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", "localhost", "1-2.example",
])
def test_a_host_name_or_address_gets_its_command(name: str) -> None:
    command, withheld = suggested_check("server_cert_untrusted", HOST, PORT, name)
    assert withheld is None
    url_host = f"[{name}]" if ":" in name else name
    assert shlex.split(command, comments=True) == ["curl", "-v", "--cacert", "ROOT-CA.pem", f"https://{url_host}:{PORT}/"]


def test_every_capture_derived_word_is_quoted_even_past_the_name_check() -> None:
    """The name check is one guard; the quoting is the other: a port (ours, from the TCP header)
    that held shell syntax would still be one argument."""
    command, _ = suggested_check("sni_rejected", HOST, "443;id", "www.lab.test")
    assert shlex.split(command, comments=True) == ["openssl", "s_client", "-connect", f"{HOST}:443;id",
                                        "-servername", "www.lab.test"]


def test_no_name_uses_the_server_address_and_no_check_means_neither() -> None:
    assert shlex.split(check_command("connection_reset", HOST, PORT, ""), comments=True) == [
        "openssl", "s_client", "-connect", f"{HOST}:{PORT}", "-servername", HOST]
    assert suggested_check("ok", HOST, PORT, "$(id)") == (None, None)
    assert suggested_check("no_such_cause", HOST, PORT, "x") == (None, None)
    assert check_command("sni_rejected", HOST, PORT, "$(id)") is None


def test_an_ipv6_address_goes_in_brackets_before_a_port_and_bare_as_a_name() -> None:
    """openssl refuses '-connect 2001:db8::1:443' as ambiguous, and a URL cannot hold it bare."""
    command, _ = suggested_check("connection_reset", "2001:db8::1", PORT, "")
    assert shlex.split(command, comments=True) == [
        "openssl", "s_client", "-connect", f"[2001:db8::1]:{PORT}", "-servername", "2001:db8::1"]
    command, _ = suggested_check("server_cert_untrusted", "2001:db8::1", PORT, "")
    assert shlex.split(command, comments=True)[-1] == f"https://[2001:db8::1]:{PORT}/"
    command, _ = suggested_check("server_cert_untrusted", "2001:db8::1", PORT, "www.lab.test")
    assert shlex.split(command, comments=True)[-1] == f"https://www.lab.test:{PORT}/"
