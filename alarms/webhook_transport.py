"""Outbound webhook HTTP that cannot be turned against the platform's own network (SSRF).

Rules, applied to every request (delivery or test ping):

* The URL is ``http(s)://host[:port]/…``. The host — a name or a literal address — is resolved
  **at send time**, and every address it resolves to must be public: Python's
  ``ipaddress.is_global`` and, explicitly, none of loopback, private (RFC 1918, ULA ``fc00::/7``),
  CGNAT ``100.64.0.0/10``, link-local (``169.254.0.0/16``, ``fe80::/10``), multicast, reserved
  (``240.0.0.0/4``), unspecified, documentation/benchmark ranges, 6to4/Teredo, nor the cloud
  metadata addresses (``169.254.169.254``, ``fd00:ec2::254``, ``100.100.100.200``). IPv4-mapped and
  NAT64 addresses are judged by the IPv4 address they carry. One refused address refuses the host.
* The connection goes to the address that was checked — never a second lookup (no DNS
  rebinding between check and connect) — with the ``Host`` header and TLS SNI/certificate check
  for the URL's host name; the socket's peer address is checked again once connected.
* Redirects are never followed: a 3xx is a failed delivery (:class:`WebhookHTTPError`).
* ``settings.WEBHOOK_ALLOW_PRIVATE`` (``WEBHOOK_ALLOW_PRIVATE=true``; local development and tests
  with a receiver on 127.0.0.1) also allows loopback, private, CGNAT and link-local addresses —
  still never the metadata addresses, multicast, unspecified or reserved ones.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import socket
import time
from urllib.parse import unquote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_RESPONSE_BYTES = 64 * 1024  # read (and discard) at most this much of an answer

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)
# Never connected to, whatever the settings.
_ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
        "::/128",  # unspecified
        "ff00::/8",  # multicast
        "2001::/32",  # Teredo: carries an arbitrary IPv4 address
        "2002::/16",  # 6to4: carries an arbitrary IPv4 address
    )
)
# Refused unless WEBHOOK_ALLOW_PRIVATE.
_INTERNAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT (shared address space)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local (cloud metadata lives here)
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "::1/128",
        "100::/64",  # discard-only
        "2001:db8::/32",
        "fc00::/7",  # unique local (fd00:ec2::254 is AWS's metadata endpoint)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
    )
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"),)


class WebhookError(Exception):
    """A webhook request that did not deliver. ``str()`` is the reason, for logs and the
    delivery row (never shown to API clients, except an HTTP status a public server answered)."""


class WebhookRefused(WebhookError):
    """The URL or the address it resolves to is not allowed; nothing was sent."""


class WebhookUnreachable(WebhookError):
    """No HTTP answer: name not found, connection refused, unreachable, timed out, TLS failure."""


class WebhookHTTPError(WebhookError):
    """The server answered, but not with a 2xx (3xx included: redirects are not followed)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = status  # like urllib's HTTPError


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_allowed(address: IPAddress, *, allow_private: bool = False) -> bool:
    """May a webhook connect to ``address``? Public addresses only, unless ``allow_private``."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # drop any scope id
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_allowed(embedded, allow_private=allow_private)
    if address in METADATA_ADDRESSES or address.is_multicast or address.is_unspecified:
        return False
    if any(address in net for net in _ALWAYS_REFUSED if net.version == address.version):
        return False
    internal = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or any(address in net for net in _INTERNAL if net.version == address.version)
    )
    if internal:
        return allow_private
    return address.is_global and not address.is_reserved


def _parse_address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%", 1)[0])


def resolve_allowed(host: str, port: int, *, allow_private: bool = False) -> list[IPAddress]:
    """Resolve ``host`` once; every address must be allowed (else :class:`WebhookRefused`)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUnreachable(f"{host} does not resolve: {exc}") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = _parse_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise WebhookUnreachable(f"{host} does not resolve")
    refused = [str(a) for a in addresses if not address_allowed(a, allow_private=allow_private)]
    if refused:
        raise WebhookRefused(f"{host} resolves to {', '.join(refused)}: not a public address")
    return addresses


class _PinnedConnectionMixin:
    """``http.client`` connection whose socket goes to pre-checked addresses instead of a fresh
    lookup of ``self.host`` (which still names the Host header and, for HTTPS, SNI and the
    certificate check)."""

    _addresses: list[IPAddress]
    _allow_private: bool
    _deadline: float

    def _pin(self, addresses: list[IPAddress], *, allow_private: bool, deadline: float) -> None:
        self._addresses, self._allow_private, self._deadline = addresses, allow_private, deadline
        self._create_connection = self._connect_pinned  # used by HTTPConnection.connect()

    def _connect_pinned(self, address, timeout, source_address=None):
        port = address[1]
        last: OSError | None = None
        for ip in self._addresses:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                sock = socket.create_connection((str(ip), port), min(timeout or remaining, remaining), source_address)
            except OSError as exc:
                last = exc
                continue
            peer = _parse_address(sock.getpeername()[0])
            if not address_allowed(peer, allow_private=self._allow_private):
                sock.close()
                raise WebhookRefused(f"connected peer {peer} is not a public address")
            return sock
        raise last or TimeoutError("webhook timeout")


class _PinnedHTTPConnection(_PinnedConnectionMixin, http.client.HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, http.client.HTTPSConnection):
    pass


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float, allow_private: bool = False) -> int:
    """POST ``body`` to ``url`` under the rules above; the whole request is bounded by ``timeout``
    seconds (name lookup aside). Returns the 2xx status; raises :class:`WebhookRefused`,
    :class:`WebhookUnreachable` or :class:`WebhookHTTPError`."""
    deadline = time.monotonic() + timeout
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookRefused(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookRefused("Webhook URLs must be http(s).")
    host = parts.hostname
    if not host:
        raise WebhookRefused("The webhook URL has no host.")
    port = port or (443 if scheme == "https" else 80)
    addresses = resolve_allowed(host, port, allow_private=allow_private)

    headers = dict(headers)
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    remaining = max(deadline - time.monotonic(), 0.001)
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = cls(host, port, timeout=remaining)
    connection._pin(addresses, allow_private=allow_private, deadline=deadline)
    try:
        try:
            connection.request("POST", target, body=body, headers=headers)
            if connection.sock is not None:
                connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
        except WebhookError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            raise WebhookUnreachable(f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()
    status = response.status
    if 300 <= status < 400:
        location = response.getheader("Location", "")
        raise WebhookHTTPError(status, f"HTTP {status}: redirects are not followed (Location: {location[:200]})")
    if not 200 <= status < 300:
        raise WebhookHTTPError(status, f"HTTP {status} {response.reason}".strip())
    return status
