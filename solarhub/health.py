"""Health endpoints (seed 003): ``/``, ``/health``, ``/health/live``, ``/health/ready``,
``/health/detailed``. No authentication required and no throttling: orchestrators probe them.

``/health/detailed`` answers everybody its overall status (``{status, service, version}``, 200
or 503 — what a load balancer needs) but shows the dependencies' details (vendors, backends,
worker names, error texts, latencies) only to plant_admins (JWT, or a Django-admin session) and
to requests carrying ``settings.HEALTH_TOKEN`` as ``X-Health-Token: <token>`` or
``Authorization: Bearer <token>``. Wrong or expired credentials get the summary, like anonymous
callers: a probe never fails because of its credentials."""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from plants.access import is_platform_admin

from .api.errors import error_body
from .api.schema import ErrorSerializer

logger = logging.getLogger("solarhub.health")


def _timed(check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        outcome = {"status": "healthy", **(check() or {})}
    except Exception as exc:  # noqa: BLE001 -- a probe reports failures, it never raises
        outcome = {"status": "unhealthy", "error": f"{type(exc).__name__}: {str(exc).strip()[:200]}"}
    outcome["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return outcome


def check_database(alias: str = "default") -> dict:
    def probe() -> dict:
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"vendor": connection.vendor}

    result = _timed(probe)
    if result["status"] != "healthy":
        # Drop the broken connection so the next request reconnects instead of reusing it.
        try:
            connections[alias].close()
        except Exception:  # noqa: BLE001, S110
            pass
    return result


def check_cache() -> dict:
    def probe() -> dict:
        key = f"health:{uuid.uuid4().hex}"
        cache.set(key, "1", 10)
        if cache.get(key) != "1":
            raise RuntimeError("value written to the cache could not be read back")
        cache.delete(key)
        return {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}

    return _timed(probe)


def check_broker() -> dict:
    from solarhub.celery import app

    if app.conf.task_always_eager:
        return {
            "status": "healthy",
            "mode": "eager",
            "detail": "no broker configured; tasks run in-process",
            "latency_ms": 0.0,
        }

    def probe() -> dict:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=settings.HEALTH_CHECK_TIMEOUT
            )
            return {"transport": conn.transport_cls if isinstance(conn.transport_cls, str) else "custom"}

    return _timed(probe)


def check_workers(broker: dict) -> dict:
    from solarhub.celery import app

    if app.conf.task_always_eager:
        return {
            "status": "healthy",
            "mode": "eager",
            "count": 0,
            "detail": "tasks run in the web process",
            "latency_ms": 0.0,
        }
    if broker["status"] != "healthy":
        # Pinging through a dead broker would block on connection retries.
        return {"status": "unhealthy", "error": "broker unreachable", "latency_ms": 0.0}

    def probe() -> dict:
        replies = app.control.ping(timeout=1.0) or []
        names = sorted(name for reply in replies for name in reply)
        if not names:
            raise RuntimeError("no Celery worker answered a ping within 1 s")
        return {"count": len(names), "workers": names}

    return _timed(probe)


def _service() -> dict:
    return {"service": settings.SERVICE_NAME, "version": settings.VERSION}


class _HealthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []


_status_body = inline_serializer(
    "HealthStatus",
    fields={
        "status": serializers.CharField(),
        "service": serializers.CharField(),
        "version": serializers.CharField(),
    },
)


@extend_schema(
    tags=["health"],
    responses={
        200: inline_serializer(
            "ServiceInfo",
            fields={
                "service": serializers.CharField(),
                "version": serializers.CharField(),
                "docs": serializers.CharField(),
                "schema": serializers.CharField(),
                "admin": serializers.CharField(),
            },
        )
    },
)
class RootView(_HealthView):
    """Service name, version and where the documentation is."""

    def get(self, request):
        return Response({**_service(), "docs": "/api/docs/", "schema": "/api/schema/", "admin": "/admin/"})


@extend_schema(tags=["health"], responses={200: _status_body})
class HealthView(_HealthView):
    """Always healthy while the process serves requests."""

    def get(self, request):
        return Response({"status": "healthy", **_service()})


@extend_schema(tags=["health"], responses={200: _status_body})
class LiveView(_HealthView):
    """Liveness probe: the process answers. Checks nothing else, so a database outage never
    makes an orchestrator restart healthy web processes."""

    def get(self, request):
        return Response({"status": "alive", **_service()})


class HealthCheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["healthy", "unhealthy"])
    latency_ms = serializers.FloatField()
    error = serializers.CharField(required=False, help_text="Why the check failed.")
    mode = serializers.CharField(required=False, help_text="'eager' when Celery runs in-process.")

    class Meta:
        ref_name = "HealthCheck"


@extend_schema(
    tags=["health"],
    responses={
        200: inline_serializer(
            "Readiness",
            fields={"status": serializers.CharField(), "checks": serializers.DictField(child=HealthCheckSerializer())},
        ),
        503: OpenApiResponse(ErrorSerializer, description="The database does not answer (DATABASE_UNAVAILABLE)."),
    },
)
class ReadyView(_HealthView):
    """Readiness probe: 200 when the database answers, else 503."""

    def get(self, request):
        database = check_database()
        if database["status"] != "healthy":
            body = error_body(detail="Database unavailable.", status_code=503, error_code="DATABASE_UNAVAILABLE")
            body.update({"status": "unavailable", "checks": {"database": database}})
            return Response(body, status=503)
        return Response({"status": "ready", "checks": {"database": database}})


def _presented_token(request) -> str:
    token = request.headers.get("X-Health-Token", "")
    if not token:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            token = credentials
    return token.strip()


def health_details_allowed(request) -> bool:
    """The configured health token (constant-time comparison), or a plant_admin signed in by JWT
    or session. Never raises: bad credentials are just not enough."""
    expected = settings.HEALTH_TOKEN
    presented = _presented_token(request)
    if expected and presented and hmac.compare_digest(presented.encode(), expected.encode()):
        return True
    for authenticator_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        try:
            outcome = authenticator_class().authenticate(request)
        except (exceptions.AuthenticationFailed, exceptions.PermissionDenied):
            outcome = None
        except Exception:  # noqa: BLE001 -- e.g. the database is down: the user cannot be read
            logger.info("Health details: %s could not authenticate", authenticator_class.__name__, exc_info=True)
            outcome = None
        if outcome is not None:
            user = outcome[0]
            return is_platform_admin(user)
    return False


@extend_schema(
    tags=["health"],
    parameters=[
        OpenApiParameter(
            "X-Health-Token",
            str,
            OpenApiParameter.HEADER,
            required=False,
            description="HEALTH_TOKEN (also accepted as `Authorization: Bearer <token>`): full details.",
        )
    ],
    responses={
        200: inline_serializer(
            "DetailedHealth",
            fields={
                "status": serializers.ChoiceField(choices=["healthy", "degraded", "unhealthy"]),
                "service": serializers.CharField(),
                "version": serializers.CharField(),
                "infrastructure": serializers.DictField(
                    child=HealthCheckSerializer(),
                    required=False,
                    help_text="Only for plant_admins and the health token.",
                ),
                "message": serializers.CharField(required=False, help_text="Only with `infrastructure`."),
            },
        ),
        503: OpenApiResponse(description="The database does not answer; same body, status unhealthy."),
    },
)
class DetailedView(_HealthView):
    """Every dependency with its status and latency: database, cache, broker, Celery workers.
    The database down → 503 ``unhealthy``; anything else down → 200 ``degraded``. Everybody gets
    the overall ``status``; the ``infrastructure`` details and ``message`` only plant_admins
    (JWT or admin session) and callers with the configured ``HEALTH_TOKEN``."""

    def perform_authentication(self, request) -> None:
        # Not at dispatch: with no authenticators DRF would pin AnonymousUser onto the Django
        # request, hiding the admin session from health_details_allowed.
        pass

    def get(self, request):
        broker = check_broker()
        infrastructure = {
            "database": check_database(),
            "cache": check_cache(),
            "broker": broker,
            "workers": check_workers(broker),
        }
        failing = sorted(name for name, check in infrastructure.items() if check["status"] != "healthy")
        if "database" in failing:
            overall, code = "unhealthy", 503
        elif failing:
            overall, code = "degraded", 200
        else:
            overall, code = "healthy", 200
        if not health_details_allowed(request):
            return Response({"status": overall, **_service()}, status=code)
        message = "All systems operational" if not failing else "Failing: " + ", ".join(failing)
        return Response(
            {"status": overall, **_service(), "infrastructure": infrastructure, "message": message}, status=code
        )
