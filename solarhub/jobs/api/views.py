from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from solarhub.api.params import IdFilter
from solarhub.api.permissions import IsPlantAdmin
from solarhub.jobs.handlers import SELFCHECK
from solarhub.jobs.selectors import job_list_visible_to
from solarhub.jobs.services import job_enqueue
from solarhub.models import Job, JobStatus

from .serializers import JobAcceptedSerializer, JobSerializer, job_accepted_body


class JobFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    kind = django_filters.CharFilter()
    plant = IdFilter(field_name="plant_id")
    plant_id = IdFilter(field_name="plant_id")

    class Meta:
        model = Job
        fields: list[str] = []


@extend_schema(tags=["jobs"])
class JobListView(generics.ListAPIView):
    """Background jobs visible to you (their plant is visible to you, or you started them)."""

    serializer_class = JobSerializer
    filterset_class = JobFilter

    def get_queryset(self):
        return job_list_visible_to(self.request.user).select_related(None)


@extend_schema(tags=["jobs"])
class JobDetailView(generics.RetrieveAPIView):
    """Poll a job: ``status`` goes queued → running → completed | failed; ``result`` names what
    it produced. Invisible jobs answer 404."""

    serializer_class = JobSerializer

    def get_queryset(self):
        return job_list_visible_to(self.request.user)


@extend_schema(tags=["jobs"], request=None, responses={202: JobAcceptedSerializer})
class SelfCheckJobView(APIView):
    """Start the platform self-check job (plant_admin): a worker proves it can take jobs from
    the broker and reach the database and cache. One runs at a time; a second request while it
    is active answers the same job."""

    permission_classes = [IsPlantAdmin]

    def post(self, request):
        job, _ = job_enqueue(kind=SELFCHECK, requested_by=request.user, unique_key=SELFCHECK)
        return Response(job_accepted_body(job, request), status=status.HTTP_202_ACCEPTED)
