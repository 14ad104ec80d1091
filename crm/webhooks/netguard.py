"""SSRF guard for webhook deliveries (standard library only).

A target URL must be http or https, carry no user:password, and every address its host resolves to
must be public — unless an admin allow-listed the host name or the address (WebhookAllowedHost).
The check runs on the resolved addresses, and the connection then goes to the very address that was
checked (pinned), so a DNS answer that changes between check and connect cannot redirect it.
Legacy IPv4 spellings (0177.0.0.1, 2130706433, 0x7f.1) are read the way inet_aton reads them and
bracketed IPv6 literals (with IPv4-mapped, -compatible, 6to4, Teredo and NAT64 forms unwrapped)
are checked on the address they really reach."""

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud metadata
}
SHARED_NETWORK = ipaddress.ip_network("100.64.0.0/10")
NAT64_NETWORK = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class UnsafeURLError(ValidationError):
    pass


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written, lower case, without brackets (sent as Host and used for TLS)
    port: int
    path: str  # path and query
    literal: IPAddress | None  # the host when it is an IP address in any spelling


@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> "AllowList":
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            value = entry.strip().lower().strip("[]")
            network = parse_network(value)
            if network is not None:
                networks.append(network)
            elif value:
                hosts.add(value.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        candidates = [address, *_embedded(address)]
        return any(a.version == n.version and a in n for a in candidates for n in self.networks)


EMPTY_ALLOW_LIST = AllowList(frozenset(), ())


def parse_network(value: str) -> IPNetwork | None:
    """An IP address or CIDR network in standard notation, or None."""
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        legacy = legacy_ipv4(value)
        return ipaddress.ip_network(legacy) if legacy is not None else None


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """inet_aton's reading: 1–4 dot-separated parts, each decimal, octal (leading 0) or hex (0x)."""
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts = parts[:-1]
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                number = int(part[2:] or "0", 16)
            elif len(part) > 1 and part.startswith("0"):
                number = int(part, 8)
            elif part.isdigit():
                number = int(part)
            else:
                return None
        except ValueError:
            return None
        numbers.append(number)
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(value)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return legacy_ipv4(host)


def _embedded(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in NAT64_NETWORK or address in IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_forbidden(address: IPAddress) -> bool:
    """True for anything that is not a plain public unicast address."""
    if address in METADATA_ADDRESSES:
        return True
    if any(is_forbidden(inner) for inner in _embedded(address)):
        return True
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED_NETWORK:
        return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def parse_url(url: str) -> Target:
    """Syntax checks; raises UnsafeURLError with a Chinese message."""
    url = (url or "").strip()
    if not url:
        raise UnsafeURLError(_("请填写接收地址。"))
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise UnsafeURLError(_("接收地址不能包含空格或控制字符。"))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURLError(_("接收地址格式不正确。")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURLError(_("接收地址只能以 http:// 或 https:// 开头。"))
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UnsafeURLError(_("接收地址不能包含用户名或密码。"))
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeURLError(_("接收地址缺少主机名。"))
    if port == 0:
        raise UnsafeURLError(_("接收地址的端口不正确。"))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        scheme=scheme,
        host=host,
        port=port or (443 if scheme == "https" else 80),
        path=path,
        literal=_literal(host),
    )


def resolve(target: Target) -> list[IPAddress]:
    if target.literal is not None:
        return [target.literal]
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeURLError(
            _("无法解析主机名“%(host)s”。") % {"host": target.host}, code="unresolvable"
        ) from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeURLError(_("无法解析主机名“%(host)s”。") % {"host": target.host}, code="unresolvable")
    return addresses


def check(url: str, allow: AllowList = EMPTY_ALLOW_LIST) -> tuple[Target, IPAddress]:
    """The parsed target and the address to connect to; raises UnsafeURLError when it is not safe."""
    target = parse_url(url)
    addresses = resolve(target)
    if not allow.allows_host(target.host):
        for address in addresses:
            if is_forbidden(address) and not allow.allows_address(address):
                raise UnsafeURLError(
                    _(
                        "接收地址“%(host)s”指向内网、本机或保留地址（%(address)s），不允许发送；"
                        "如确需发送，请管理员先把它加入允许的内网地址。"
                    )
                    % {"host": target.host, "address": address},
                    code="forbidden",
                )
    return target, addresses[0]


def _pinned(connection: http.client.HTTPConnection, address: str) -> http.client.HTTPConnection:
    """Make `connection` open its socket to `address`; the Host header and the TLS server name (SNI
    and certificate check) stay the URL's host, since http.client takes them from `host`."""

    def create_connection(host_port, timeout, source_address=None):
        return socket.create_connection((address, host_port[1]), timeout, source_address)

    connection._create_connection = create_connection  # type: ignore[attr-defined]
    return connection


def connection_for(target: Target, address: IPAddress, *, timeout: float) -> http.client.HTTPConnection:
    """A connection to `target` pinned to the checked `address`. http.client follows no redirects."""
    if target.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    return _pinned(connection, str(address))
