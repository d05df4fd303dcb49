"""Webhooks cannot reach the platform's own network: host names are resolved at send time and
only public addresses are connected to (the checked one: no DNS rebinding), redirects are never
followed, and the test endpoint answers every network failure alike (no port-scan oracle)."""

from __future__ import annotations

import ipaddress
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alarms import services, webhook_transport
from alarms.choices import DeliveryStatus, Severity
from alarms.models import NotificationDelivery, Webhook
from alarms.notifications import MAX_ATTEMPTS, TEST_DELIVERY_FAILED
from alarms.webhook_transport import address_allowed
from solarhub.testing.personas import api_client_for
from solarhub.testing.server import http_server_running

pytestmark = pytest.mark.django_db


class _Server:
    """A local HTTP server answering every POST with ``status`` (and ``location``)."""

    def __init__(self, status: int = 200, location: str | None = None):
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.requests.append({"path": self.path, "host": self.headers.get("Host")})
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self._running = http_server_running(self.httpd)

    def url(self, host: str = "127.0.0.1", path: str = "/hook") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self):
        self._running.__enter__()
        return self

    def __exit__(self, *exc):
        self._running.__exit__(*exc)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _raise_alarm(plant, by, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.alarm_create_manual(plant=plant, by=by, title="Inverter offline", severity=Severity.CRITICAL)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:93.184.216.34", True),
        ("64:ff9b::5db8:d822", True),  # NAT64 of a public address
        ("127.0.0.1", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # CGNAT
        ("100.100.100.200", False),  # Alibaba metadata
        ("169.254.169.254", False),  # cloud metadata
        ("169.254.10.1", False),
        ("fd00:ec2::254", False),  # AWS metadata over IPv6
        ("fe80::1", False),
        ("fc00::1", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("ff0e::1", False),  # global-scope multicast: ipaddress calls it global
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("0.0.0.0", False),  # noqa: S104
        ("::", False),
        ("192.0.2.1", False),
        ("198.18.0.1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:169.254.169.254", False),
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of the metadata address
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2001:0:4136:e378::1", False),  # Teredo
    ],
)
def test_only_public_addresses_are_allowed(address, public):
    assert address_allowed(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "::1", "fd12::1"])
def test_the_development_setting_allows_private_addresses_but_never_metadata(address):
    assert address_allowed(ipaddress.ip_address(address), allow_private=True)
    for never in ("169.254.169.254", "fd00:ec2::254", "0.0.0.0", "224.0.0.1", "240.0.0.1"):  # noqa: S104
        assert not address_allowed(ipaddress.ip_address(never), allow_private=True), never


def test_a_host_name_resolving_to_loopback_is_refused_when_sending(
    own_plant, customer, settings, django_capture_on_commit_callbacks
):
    assert settings.WEBHOOK_ALLOW_PRIVATE is False  # the default
    with _Server() as receiver:
        hook = Webhook.objects.create(plant=own_plant, url=receiver.url(host="localhost"))
        _raise_alarm(own_plant, customer, django_capture_on_commit_callbacks)
        assert receiver.requests == []  # never connected to
    delivery = NotificationDelivery.objects.get(webhook=hook)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    assert "localhost resolves to 127.0.0.1: not a public address" in delivery.last_error


def test_the_name_is_resolved_once_and_the_checked_address_connected(monkeypatch, settings):
    """No DNS rebinding: one lookup per request, the socket goes to that address, and the Host
    header still names the URL's host."""
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the "public" name below resolves to our local server
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding_dns(host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)  # connecting to a literal address "resolves" it: no DNS
        except ValueError:
            lookups.append(host)
        if host == "hooks.example.com":  # 127.0.0.1 first, then (too late) somewhere else
            answer = "127.0.0.1" if len(lookups) == 1 else "10.9.9.9"
            return real_getaddrinfo(answer, port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    with _Server() as receiver:
        status = webhook_transport.post(
            url=f"http://hooks.example.com:{receiver.port}/in?x=1",
            body=b"{}",
            headers={},
            timeout=2,
            allow_private=True,
        )
    assert status == 200
    assert lookups == ["hooks.example.com"]
    assert receiver.requests == [{"path": "/in?x=1", "host": f"hooks.example.com:{receiver.port}"}]

    # a name with one private address among public ones is refused as a whole
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port)),
        ],
    )
    with pytest.raises(webhook_transport.WebhookRefused, match=r"10\.0\.0\.1: not a public address"):
        webhook_transport.post(url="https://hooks.example.com/x", body=b"{}", headers={}, timeout=2)


@pytest.mark.parametrize("target", ["http://127.0.0.1:{internal}/internal", "http://169.254.169.254/latest/meta-data/"])
def test_redirects_are_never_followed(
    own_plant, customer, installer, settings, target, django_capture_on_commit_callbacks
):
    # The first hop is a local receiver, so private addresses are allowed here; the redirect is
    # still refused, because no redirect is ever followed.
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with _Server() as internal:
        location = target.format(internal=internal.port)
        with _Server(status=302, location=location) as redirector:
            hook = Webhook.objects.create(plant=own_plant, url=redirector.url())
            _raise_alarm(own_plant, customer, django_capture_on_commit_callbacks)
            response = api_client_for(installer).post(f"/api/plants/{own_plant.id}/webhooks/{hook.id}/test")
        assert len(redirector.requests) == MAX_ATTEMPTS + 1  # the deliveries' attempts and the test ping
        assert internal.requests == []
    delivery = NotificationDelivery.objects.get(webhook=hook)
    assert delivery.status == DeliveryStatus.FAILED
    assert "HTTP 302: redirects are not followed" in delivery.last_error
    assert response.status_code == 200
    body = response.json()
    assert body["delivered"] is False and body["statusCode"] == 302
    assert body["error"].startswith("HTTP 302: redirects are not followed")


def _ping(client, plant, hook) -> tuple[float, dict]:
    started = time.monotonic()
    response = client.post(f"/api/plants/{plant.id}/webhooks/{hook.id}/test")
    assert response.status_code == 200
    return time.monotonic() - started, response.json()


@pytest.mark.slow
def test_the_test_endpoint_is_no_port_scanner(own_plant, installer, settings):
    """Refused, unreachable, timed out, unknown, not public: one answer, after the full timeout."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    client = api_client_for(installer)
    silent = socket.socket()  # accepts connections (kernel backlog) and never answers: a timeout
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    answers: dict[str, tuple[float, dict]] = {}
    try:
        with _Server() as open_port:
            cases = {
                # production rules: an open and a closed local port look alike, and alike the rest
                "open local port": (False, open_port.url()),
                "closed local port": (False, f"http://127.0.0.1:{_closed_port()}/"),
                "localhost name": (False, open_port.url(host="localhost")),
                "private address": (False, "http://10.11.12.13:8080/"),
                "metadata": (False, "http://169.254.169.254/latest/meta-data/"),
                "unknown name": (False, "https://no-such-host.invalid/hook"),
                # network failures proper, with local addresses allowed
                "connection refused": (True, f"http://127.0.0.1:{_closed_port()}/"),
                "timed out": (True, f"http://127.0.0.1:{silent.getsockname()[1]}/"),
                "unreachable": (True, "http://[100::1]:81/"),
            }
            for name, (allow_private, url) in cases.items():
                settings.WEBHOOK_ALLOW_PRIVATE = allow_private
                hook = Webhook.objects.create(plant=own_plant, url=url)
                answers[name] = _ping(client, own_plant, hook)
            assert open_port.requests == []
    finally:
        silent.close()
    bodies = {name: body for name, (_elapsed, body) in answers.items()}
    assert all(
        body == {"delivered": False, "statusCode": None, "error": TEST_DELIVERY_FAILED} for body in bodies.values()
    ), bodies
    durations = {name: round(elapsed, 2) for name, (elapsed, _body) in answers.items()}
    assert all(0.98 <= elapsed < 1.6 for elapsed in durations.values()), durations


def test_creation_refuses_literal_non_public_addresses(own_plant, customer):
    client = api_client_for(customer)
    url = f"/api/plants/{own_plant.id}/webhooks"
    for bad in (
        "https://169.254.169.254/latest",
        "https://[fd00:ec2::254]/x",
        "https://100.64.0.1/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://0.0.0.0/x",
        "https://[::1]/x",
    ):
        response = client.post(url, {"url": bad}, format="json")
        assert response.status_code == 400, bad
        assert response.json()["errors"]["url"] == ["Webhook URLs must point to a public host."]
    # names are not resolved at creation (that would reveal internal names); sending checks them
    assert client.post(url, {"url": "https://hooks.internal.example/x"}, format="json").status_code == 201
