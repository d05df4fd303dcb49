"""The real URL map plus a few views that exist only to exercise the error and casing plumbing."""

from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from solarhub.urls import urlpatterns as real_urlpatterns


class EchoSerializer(serializers.Serializer):
    plant_name = serializers.CharField(max_length=20)
    capacity_kw = serializers.FloatField(min_value=0)
    inner_block = serializers.DictField(required=False)


class EchoView(APIView):
    """Validates a body and echoes what the serializer saw, plus the query parameters."""

    permission_classes = [AllowAny]

    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"seen": serializer.validated_data, "query": dict(request.query_params.items())})


class CrashView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internal detail /etc/passwd")


class OncePerMinute(AnonRateThrottle):
    rate = "1/min"
    scope = "test-once"


class ThrottledView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [OncePerMinute]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("api/test/echo", EchoView.as_view()),
    path("api/test/crash", CrashView.as_view()),
    path("api/test/throttled", ThrottledView.as_view()),
    *real_urlpatterns,
]
