"""The outbound-address rule where names meet addresses: when an endpoint is set, and on connect.

``domains.outbound`` judges a URL as written. A name, though, says nothing until it is
resolved, and its answer may change between the day a studio saves its endpoint and the day the
sync worker calls it (DNS rebinding: public when checked, 169.254.169.254 when used). So the
name is resolved twice: once when the settings are saved, to answer 422 at once
(``OutboundPolicy.check``), and again by the HTTP client itself, through ``GuardedResolver``,
for every connection it opens, which is the check that counts.
"""

from __future__ import annotations

import asyncio
import socket
from ipaddress import ip_address

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from domains.errors import InvalidValue
from domains.outbound import PrivateAllowance, address_refusal, check_endpoint


class AddressRefused(OSError):
    """A connection would reach an address the rule forbids.

    An ``OSError`` so the HTTP client treats it as a failed lookup, not as a bug of its own.
    """


class OutboundPolicy:
    """The check ``ProviderCommands`` runs when a studio saves an endpoint (see its port)."""

    def __init__(self, allowance: PrivateAllowance, resolve_seconds: float = 3.0) -> None:
        self.allowance = allowance
        self._resolve_seconds = resolve_seconds

    async def check(self, field: str, url: str) -> None:
        """``InvalidValue(field, ...)`` if the URL, or what its host resolves to now, is refused.

        A name that does not resolve at all is let through: it may be a DNS hiccup, and the
        connection-time check refuses it later if it ever resolves to a forbidden address.
        """
        endpoint = check_endpoint(field, url, self.allowance)
        if endpoint.address is not None or self.allowance.allows_name(endpoint.host):
            return
        refusal = await self.name_refusal(endpoint.host)
        if refusal is not None:
            raise InvalidValue(field, f"{refusal}; only public addresses may be used")

    async def name_refusal(self, host: str) -> str | None:
        """Why ``host`` must not be reached given what it resolves to now, or None."""
        if self.allowance.allows_name(host):
            return None
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM),
                self._resolve_seconds,
            )
        except (OSError, TimeoutError, UnicodeError):
            return None
        for info in infos:
            refusal = address_refusal(ip_address(str(info[4][0])), self.allowance)
            if refusal is not None:
                return f"{host} resolves to an address that is not public: {refusal}"
        return None


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing any answer the outbound rule forbids.

    Handed to the S3 client's connector, it sees every host name the client connects to
    (the endpoint, a bucket's virtual host, a redirect's target), at the moment it connects.
    aiohttp does not resolve literal addresses; those are checked before the client is made.
    """

    def __init__(self, allowance: PrivateAllowance, inner: AbstractResolver | None = None) -> None:
        self._allowance = allowance
        self._inner = inner if inner is not None else ThreadedResolver()
        self.refused: str | None = None
        """The last refusal, in our words, for the error the caller reports."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if self._allowance.allows_name(host):
            return answers
        for answer in answers:
            refusal = address_refusal(ip_address(answer["host"]), self._allowance)
            if refusal is not None:
                self.refused = f"{host} resolves to an address that is not public: {refusal}"
                raise AddressRefused(self.refused)
        return answers

    async def close(self) -> None:
        await self._inner.close()

    def __repr__(self) -> str:
        return f"GuardedResolver({self._allowance!r})"
