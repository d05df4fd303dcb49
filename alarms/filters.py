"""django-filter FilterSets of the alarms app. Filter names are snake_case: CamelCaseMiddleWare
delivers the SPA's ``?plantId`` as ``plant_id`` (solarhub/api/filters.py says why)."""

import django_filters
from django.db.models import Q

from solarhub.api.params import IdFilter, TimeFilter

from .choices import LEGACY_STATES, AlarmState, RuleType, Severity
from .models import Alarm, AlarmRule

STATE_CHOICES = [*AlarmState.choices, *((key, key) for key in LEGACY_STATES)]


class AlarmFilter(django_filters.FilterSet):
    plant_id = IdFilter(field_name="plant_id")
    device_id = IdFilter(field_name="device_id")
    state = django_filters.MultipleChoiceFilter(choices=STATE_CHOICES, method="filter_state")
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    since = TimeFilter(field_name="triggered_at", lookup_expr="gte")
    until = TimeFilter(field_name="triggered_at", lookup_expr="lt")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Alarm
        fields: list[str] = []

    def filter_state(self, queryset, name, value):
        states = set()
        for item in value:
            states.update(LEGACY_STATES.get(item, (item,)))
        return queryset.filter(state__in=states)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(message__icontains=value))


class AlarmRuleFilter(django_filters.FilterSet):
    plant_id = IdFilter(field_name="plant_id")
    device_id = IdFilter(field_name="device_id")
    rule_type = django_filters.ChoiceFilter(field_name="rule_type", choices=RuleType.choices)
    enabled = django_filters.BooleanFilter()

    class Meta:
        model = AlarmRule
        fields: list[str] = []
