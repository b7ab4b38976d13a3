"""Which addresses a studio may make the platform call: its own S3-compatible endpoint, say.

A studio-supplied URL is a request the platform sends on the studio's behalf, signed, from
inside our network. Left open, it reaches what only we should reach: the cloud's metadata
service (169.254.169.254), a database on loopback, an admin page on a private network. So such
an endpoint must be ``https`` and must not name a private, loopback, link-local, multicast,
reserved or unspecified address, unless the operator lists the host or network in
``PHOTOFLOW_ALLOWED_PRIVATE_ENDPOINTS`` (a MinIO on the LAN, moto in tests).

This module is the pure half of the rule: the URL's shape and literal addresses. Names are
resolved, and their addresses checked with ``address_refusal``, by the adapters that connect
(``infra.cloud.outbound``), at the moment they connect, so a name that changes its answer
after it was accepted (DNS rebinding) is still refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

from domains.errors import InvalidValue

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

NAT64 = IPv6Network("64:ff9b::/96")
"""The well-known NAT64 prefix: its addresses stand for the IPv4 address in their last bits."""
SHARED = IPv4Network("100.64.0.0/10")
"""Carrier-grade NAT space: not private by RFC 1918, yet not reachable from the internet."""
HOST_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")


@dataclass(frozen=True)
class PrivateAllowance:
    """The hosts and networks the operator allows although they are not public."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> PrivateAllowance:
        """From ``Settings.allowed_private_list()``: each entry a host name, address or CIDR."""
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            text = entry.strip().strip("[]").lower().rstrip(".")
            if not text:
                continue
            try:
                networks.append(ip_network(text, strict=False))
            except ValueError:
                names.add(text)
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return _normal_host(host) in self.names

    def allows_address(self, address: IPAddress) -> bool:
        candidates = [address, *_embedded(address)]
        return any(
            a in net for a in candidates for net in self.networks if a.version == net.version
        )

    def allows_host(self, host: str) -> bool:
        """The host is listed by name, or is a literal address inside a listed network."""
        if self.allows_name(host):
            return True
        address = literal_address(host)
        return address is not None and self.allows_address(address)


NO_ALLOWANCE = PrivateAllowance()


@dataclass(frozen=True)
class Endpoint:
    """A checked endpoint: its scheme, host (lowercase, no brackets) and port."""

    scheme: str
    host: str
    port: int | None
    address: IPAddress | None
    """The host as an address when it is written as one; None for a name to resolve."""


def literal_address(host: str) -> IPAddress | None:
    try:
        return ip_address(_normal_host(host))
    except ValueError:
        return None


def address_refusal(address: IPAddress, allowance: PrivateAllowance = NO_ALLOWANCE) -> str | None:
    """Why the platform must not connect to ``address``, or None when it may."""
    if allowance.allows_address(address):
        return None
    for candidate in (*_embedded(address), address):
        kind = _not_public(candidate)
        if kind is not None:
            shown = str(candidate) if candidate == address else f"{candidate}, as {address}"
            return f"names a {kind} address ({shown})"
    return None


def check_endpoint(field: str, url: str, allowance: PrivateAllowance = NO_ALLOWANCE) -> Endpoint:
    """The endpoint, or ``InvalidValue(field, ...)``: https, and no literal non-public address.

    A host the allowance lists may also be reached over plain http (a test server, a MinIO on
    the LAN without a certificate). A name is not resolved here; see the module's docstring.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise InvalidValue(field, "is not a URL") from None
    scheme = parts.scheme.lower()
    host = _normal_host(parts.hostname or "")
    if scheme not in ("http", "https") or not host:
        raise InvalidValue(field, "must be an https URL such as https://s3.example.com")
    if parts.username is not None or parts.password is not None:
        raise InvalidValue(field, "must not carry a user name or password")
    allowed = allowance.allows_host(host)
    address = literal_address(host)
    if address is not None:
        refusal = address_refusal(address, allowance)
        if refusal is not None:
            raise InvalidValue(field, f"{refusal}; only public addresses may be used")
    elif not allowed:
        _check_name(field, host)
    if scheme != "https" and not allowed:
        raise InvalidValue(field, "must use https")
    return Endpoint(scheme, host, port, address)


def _check_name(field: str, host: str) -> None:
    labels = host.split(".")
    if not all(HOST_LABEL.fullmatch(label) for label in labels):
        raise InvalidValue(field, "does not name a valid host")
    if NUMERIC_LABEL.fullmatch(labels[-1]):
        # 2130706433, 127.1, 0x7f.1: shorthand a resolver turns into an address, often loopback.
        raise InvalidValue(field, "names an address in a form other than a dotted quad")
    if labels[-1] == "localhost":
        raise InvalidValue(field, "names this machine (localhost); only public hosts may be used")


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").lower().rstrip(".")


def _embedded(address: IPAddress) -> list[IPv4Address]:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(address, IPv6Address):
        return []
    found: list[IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.append(address.teredo[1])
    if address in NAT64:
        found.append(IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _not_public(address: IPAddress) -> str | None:
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private or (isinstance(address, IPv4Address) and address in SHARED)),
        ("reserved", address.is_reserved or not address.is_global),
    )
    for kind, matches in checks:
        if matches:
            return kind
    if isinstance(address, IPv6Address) and address.is_site_local:
        return "site-local"
    return None
