"""Where a webhook may go: http(s) URLs only, and (server-side request forgery) never to a
loopback, private, link-local, multicast, reserved or otherwise non-public address unless
INVITES_WEBHOOKS_ALLOW_PRIVATE is set. The host is resolved and every address it has is
checked; the request then goes to the address checked, so a second lookup (DNS rebinding)
cannot point it elsewhere."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from domain.errors import Reason
from domain.settings import Environment, Settings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be called; the message says why (no secret, no body in it).
    `permanent`: trying again cannot help (the URL or the address it names is not allowed),
    so the delivery fails at once instead of being retried for a day."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written in the URL (for the Host header and TLS)
    port: int
    address: str  # the checked IP address to connect to


class UrlProblem(NamedTuple):
    reason: Reason
    message: str


def url_problem(url: str, settings: Settings) -> UrlProblem | None:
    """What is wrong with a subscription's URL, or None."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        return UrlProblem(Reason.NOT_A_URL, "This is not a URL.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return UrlProblem(
            Reason.URL_NOT_ABSOLUTE,
            "Give an absolute http(s) URL, like https://platform.example.org/hooks.",
        )
    if parts.username or parts.password:
        return UrlProblem(
            Reason.URL_CREDENTIALS,
            "Leave credentials out of the URL: the secret signs every request.",
        )
    if (
        parts.scheme == "http"
        and settings.env is Environment.PRODUCTION
        and not settings.webhooks_allow_http
    ):
        return UrlProblem(Reason.URL_NOT_HTTPS, "Use https: the events travel over the internet.")
    if settings.webhooks_allow_private:
        return None
    if _always_local(parts.hostname):
        return UrlProblem(Reason.URL_NOT_PUBLIC, NOT_PUBLIC)
    literal = numeric_address(parts.hostname)
    if literal is not None and not is_public(literal):
        return UrlProblem(Reason.URL_NOT_PUBLIC, NOT_PUBLIC)
    return None


NOT_PUBLIC = "This address is not public: webhooks go to the host platform's public address."


def _always_local(host: str) -> bool:
    """localhost and its subdomains name this machine whatever the DNS says (RFC 6761)."""
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def numeric_address(host: str) -> IpAddress | None:
    """The address a host written as a number stands for: a usual IP address, and every
    spelling of an IPv4 address the system's resolver also accepts (127.1, 0x7f000001,
    2130706433, 0177.0.0.1), which would otherwise slip past the check as a 'name'."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not host or not all(c in "0123456789abcdefxABCDEFX." for c in host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
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


# Host names are looked up on threads of their own, a few at a time and for a bounded time:
# a resolver that is slow to say a name does not exist (seconds per lookup) must not take the
# threads that reading uploaded files, hashing passwords and connecting to the mail relay share.
LOOKUP_THREADS = 4
LOOKUP_TIMEOUT_SECONDS = 10.0
_lookups: ThreadPoolExecutor | None = None


async def _lookup(host: str, port: int) -> list[tuple[Any, ...]]:
    global _lookups
    if _lookups is None:
        _lookups = ThreadPoolExecutor(LOOKUP_THREADS, thread_name_prefix="webhook-lookup")
    look_up = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS):
        return await asyncio.get_running_loop().run_in_executor(_lookups, look_up)


async def resolve(url: str, settings: Settings) -> Target:
    """The address to call for a URL, every address of its host checked."""
    problem = url_problem(url, settings)
    if problem is not None:
        raise Refused(problem.message, permanent=True)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await _lookup(host, port)
    except TimeoutError:
        raise Refused("The host name did not resolve in time.") from None
    except OSError as error:
        raise Refused(f"The host name does not resolve ({error.strerror or error}).") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise Refused("The host name has no address.")
    if not settings.webhooks_allow_private:
        for address in addresses:
            if not is_public(address):
                raise Refused(
                    f"The host resolves to {address}, which is not a public address.",
                    permanent=True,
                )
    return Target(scheme=parts.scheme, host=host, port=port, address=str(addresses[0]))
