"""Where a webhook may go: http(s) URLs only, and (server-side request forgery) never to a
loopback, private, link-local, multicast, reserved or otherwise non-public address unless
INVITES_WEBHOOKS_ALLOW_PRIVATE is set. The host is resolved and every address it has is
checked; the request then goes to the address checked, so a second lookup (DNS rebinding)
cannot point it elsewhere."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.settings import Environment, Settings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be called; the message says why (no secret, no body in it)."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written in the URL (for the Host header and TLS)
    port: int
    address: str  # the checked IP address to connect to


def url_problem(url: str, settings: Settings) -> str | None:
    """What is wrong with a subscription's URL, or None."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        return "This is not a URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Give an absolute http(s) URL, like https://platform.example.org/hooks."
    if parts.username or parts.password:
        return "Leave credentials out of the URL: the secret signs every request."
    if (
        parts.scheme == "http"
        and settings.env is Environment.PRODUCTION
        and not settings.webhooks_allow_http
    ):
        return "Use https: the events travel over the internet."
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None
    if not settings.webhooks_allow_private and not is_public(literal):
        return "This address is not public: webhooks go to the host platform's public address."
    return None


def is_public(address: IpAddress) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return is_public(mapped)
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )


async def resolve(url: str, settings: Settings) -> Target:
    """The address to call for a URL, every address of its host checked."""
    problem = url_problem(url, settings)
    if problem is not None:
        raise Refused(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise Refused(f"The host name does not resolve ({error.strerror or error}).") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise Refused("The host name has no address.")
    if not settings.webhooks_allow_private:
        for address in addresses:
            if not is_public(address):
                raise Refused(f"The host resolves to {address}, which is not a public address.")
    return Target(scheme=parts.scheme, host=host, port=port, address=str(addresses[0]))
