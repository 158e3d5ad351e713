"""Client addresses behind a reverse proxy: ``X-Forwarded-For`` from trusted proxies only.

``CHINWAG_TRUSTED_PROXIES`` (docs/settings.md, docs/deploy.md) lists the addresses and networks
of the proxies in front of the server. Rules kept:

- A request's client is its peer, unless the peer is a trusted proxy: then it is the rightmost
  address of ``X-Forwarded-For`` that is not itself a trusted proxy (a client can put anything
  at the left of the header; only what the trusted proxies appended counts).
- ``X-Forwarded-Proto`` is taken from a trusted peer only, and only ``http`` or ``https``.
- The same rule serves HTTP (:mod:`chinwag.web.access_log`) and realtime sockets
  (:mod:`chinwag.realtime.transport`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse(spec: str | None) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8, ::1"`` as networks; raises ValueError on a bad entry."""
    out = []
    for item in (spec or "").split(","):
        item = item.strip()
        if item:
            out.append(ipaddress.ip_network(item, strict=False))
    return tuple(out)


class TrustedProxies:
    def __init__(self, networks: Iterable[Network] = ()) -> None:
        self.networks = tuple(networks)

    def trusts(self, host: str | None) -> bool:
        if not host or not self.networks:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    def client(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The client's address, as the rules above say."""
        if not self.trusts(peer) or not forwarded_for:
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop if _is_address(hop) else peer
        return hops[0] if hops and _is_address(hops[0]) else peer

    def scheme(self, peer: str | None, forwarded_proto: str | None, default: str) -> str:
        if not self.trusts(peer) or not forwarded_proto:
            return default
        proto = forwarded_proto.split(",")[-1].strip().lower()
        if proto not in ("http", "https"):
            return default
        return ("wss" if proto == "https" else "ws") if default.startswith("ws") else proto


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
