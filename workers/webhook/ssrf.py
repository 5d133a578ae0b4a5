"""Which webhook URLs may be called: server-side request forgery refused.

Only `http` and `https`, and only hosts whose every address is public: a URL whose host is,
or resolves to, a loopback, private, link-local, multicast, unspecified, reserved or cloud
metadata address is refused, unless `WEBHOOK_ALLOWLIST` names the host or a range holding
the address. Checked when a URL is given (a job's, a key's default: a 422 naming
`webhook_url`) and again before every delivery, which then connects to the very addresses
checked here (`Target.addresses`), so DNS cannot change the answer in between.

Imports nothing of the project but settings. `resolve` is a seam: tests swap it to make a
name resolve where they need it (`use_resolver`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from workers.settings import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services, refused whatever range they fall in (some are public
# addresses): AWS (IPv4, IPv6, ECS task), GCP and Azure (169.254.169.254), Azure's
# wireserver, Alibaba, Oracle.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "168.63.129.16",
        "100.100.100.200",
        "192.0.0.192",
    )
)
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_URL_LENGTH = 2048


class UnsafeUrl(ValueError):
    """A URL that must not be called; the message says why."""


@dataclass(frozen=True)
class Target:
    """A vetted URL: where to connect (the checked addresses) and what to ask for."""

    url: str
    scheme: str
    host: str  # as written (lower case), for the Host header and TLS's SNI
    port: int
    addresses: tuple[IPAddress, ...]

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_resolver: Resolver = system_resolver


@contextmanager
def use_resolver(resolver: Resolver) -> Iterator[None]:
    """Tests: resolve names with `resolver` while the block runs."""
    global _resolver
    previous, _resolver = _resolver, resolver
    try:
        yield
    finally:
        _resolver = previous


@dataclass(frozen=True)
class Allowlist:
    hosts: frozenset[str]
    networks: tuple[Network, ...]

    def permits(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


@lru_cache(maxsize=8)
def parse_allowlist(text: str) -> Allowlist:
    """`WEBHOOK_ALLOWLIST`: host names and CIDR ranges (or single addresses), comma-separated."""
    hosts: set[str] = set()
    networks: list[Network] = []
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.add(item.strip("[]"))
    return Allowlist(frozenset(hosts), tuple(networks))


def blocked_reason(address: IPAddress) -> str | None:
    """Why `address` must not be called, or None for a public one. An IPv4-mapped IPv6
    address is that IPv4 address; one that carries an IPv4 address on its way (6to4,
    Teredo, NAT64) is refused if either is."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return blocked_reason(address.ipv4_mapped)  # it is that IPv4 address
    for inner in _embedded(address):
        reason = blocked_reason(inner)
        if reason is not None:
            return reason
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_unspecified, "unspecified"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


def _embedded(address: IPAddress) -> list[IPAddress]:
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[IPAddress] = []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def vet(url: str) -> Target:
    """Check `url` and resolve its host; raises `UnsafeUrl` saying why it may not be called."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl("must be an http or https URL")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeUrl("has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("must not carry credentials (user:password@)")
    port = port or (443 if scheme == "https" else 80)
    allow = parse_allowlist(get_settings().webhook_allowlist)
    host_allowed = host in allow.hosts
    if host in METADATA_HOSTS and not host_allowed:
        raise UnsafeUrl(f"names {host}, a cloud metadata service")
    addresses = _addresses(host, port)
    if not host_allowed:
        for address in addresses:
            reason = blocked_reason(address)
            if reason is not None and not allow.permits(address):
                where = host if str(address) == host else f"{host} resolves to {address}, which"
                raise UnsafeUrl(
                    f"{where} is {reason}; webhooks are sent to public addresses only "
                    "(WEBHOOK_ALLOWLIST names exceptions)"
                )
    return Target(url=url.strip(), scheme=scheme, host=host, port=port, addresses=addresses)


def _addresses(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        found = _resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrl(f"{host} does not resolve ({exc})") from None
    if not found:
        raise UnsafeUrl(f"{host} does not resolve")
    # A scoped IPv6 address (fe80::1%eth0) is link-local whatever its zone.
    return tuple(ipaddress.ip_address(a.split("%", 1)[0]) for a in found)
