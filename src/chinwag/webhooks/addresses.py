"""Which addresses a webhook may reach: public ones only, unless the operator allows the rest.

Rules kept (docs/webhooks.md, "Where webhooks may go"):

- Refused: loopback, private (RFC 1918, unique local ``fc00::/7``, shared ``100.64.0.0/10``),
  link-local, site-local, multicast, unspecified, and the reserved and documentation ranges:
  every address that is not global unicast, IPv4 and IPv6 alike.
- An IPv6 address that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible,
  6to4, NAT64 ``64:ff9b::/96``) is judged by the IPv4 address it carries.
- At registration, a URL whose host is an address in any spelling the resolver accepts
  (``127.1``, ``0x7f000001``, ``[::ffff:127.0.0.1]``) or a name for this machine (``localhost``,
  ``*.localhost``) is refused. Other names are judged on every delivery, after resolution: the
  connection goes to an address that was just checked, never to a second lookup's answer
  (:mod:`chinwag.webhooks.poster`).
- ``CHINWAG_WEBHOOK_ALLOW_PRIVATE=on`` lifts all of this, for closed networks and tests.

The policy is the operator's, one per process: :func:`set_allow_private` applies it at start.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlparse

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: What the delivery log says of a delivery that was not attempted because of where it goes.
REFUSED = "refused: private address"

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")

_allow_private = False


def set_allow_private(allow: bool) -> None:
    """Apply the operator's setting (``CHINWAG_WEBHOOK_ALLOW_PRIVATE``) to this process."""
    global _allow_private
    _allow_private = allow


def allow_private() -> bool:
    return _allow_private


def _carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (int(address) >> 32 == 0 and int(address) > 1):  # NAT64, compatible
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_refused(address: IPAddress) -> bool:
    """True for every address a webhook may not reach unless private addresses are allowed."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = _carried_ipv4(address)
        if carried is not None:
            return is_refused(carried)
        if address.is_site_local:
            return True
    return address.is_multicast or not address.is_global


def parse_numeric(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form the system resolver takes without DNS."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:  # the legacy IPv4 spellings: 127.1, 0x7f.0.0.1, 017700000001, 2130706433
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def registration_reasons(url: str, allow: bool | None = None) -> list[str]:
    """Why ``url`` may not be registered as a webhook (nothing when it may)."""
    if allow_private() if allow is None else allow:
        return []
    host = (urlparse(url).hostname or "").rstrip(".").lower()
    numeric = parse_numeric(host)
    local = host in _LOCAL_NAMES or host.endswith(".localhost")
    if local or (numeric is not None and is_refused(numeric)):
        return [
            "url must not point to a loopback, private, link-local, multicast or unspecified "
            "address (the operator can allow them with CHINWAG_WEBHOOK_ALLOW_PRIVATE)"
        ]
    return []
