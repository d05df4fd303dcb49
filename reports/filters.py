"""django-filter FilterSets of the reports app (snake_case names: the SPA's ``?plantId``
arrives as ``plant_id``)."""

import django_filters

from solarhub.api.params import IdFilter

from .choices import ReportStatus, ReportType
from .models import ReportJob


class ReportFilter(django_filters.FilterSet):
    plant_id = IdFilter(field_name="plant_id")
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    report_type = django_filters.ChoiceFilter(choices=ReportType.choices)

    class Meta:
        model = ReportJob
        fields: list[str] = []
