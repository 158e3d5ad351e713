"""Client addresses behind proxies: X-Forwarded-For counts only from trusted peers, and only
its entries appended by trusted proxies (a client can write anything at its left)."""

from __future__ import annotations

import pytest

from chinwag.config import ConfigError, load
from chinwag.proxies import TrustedProxies, parse

TRUSTED = TrustedProxies(parse("127.0.0.1, 10.0.0.0/8, ::1"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # an untrusted peer: its own address
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # a forged left entry
        ("127.0.0.1", "198.51.100.1, 10.1.2.3", "198.51.100.1"),  # two trusted hops
        ("::1", "2001:db8::5", "2001:db8::5"),
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
        ("127.0.0.1", "10.0.0.7", "10.0.0.7"),  # only proxies: the leftmost
    ],
)
def test_the_client_is_the_rightmost_untrusted_hop(peer, forwarded, client):
    assert TRUSTED.client(peer, forwarded) == client


def test_nothing_is_trusted_by_default():
    assert TrustedProxies().client("127.0.0.1", "198.51.100.1") == "127.0.0.1"
    assert TrustedProxies().scheme("127.0.0.1", "https", "http") == "http"


def test_the_scheme_comes_from_a_trusted_peer_only():
    assert TRUSTED.scheme("127.0.0.1", "https", "http") == "https"
    assert TRUSTED.scheme("127.0.0.1", "https", "ws") == "wss"
    assert TRUSTED.scheme("127.0.0.1", "gopher", "http") == "http"
    assert TRUSTED.scheme("203.0.113.9", "https", "http") == "http"


def test_a_bad_entry_is_a_configuration_error():
    with pytest.raises(ConfigError, match="trusted proxies"):
        load(environ={"CHINWAG_TRUSTED_PROXIES": "127.0.0.1, nonsense"})
    assert load(environ={"CHINWAG_TRUSTED_PROXIES": "10.0.0.0/8"}).trusted_proxies == "10.0.0.0/8"
