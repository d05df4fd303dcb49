"""URL patterns of the plant webhooks (included from ``alarms.api.urls``)."""

from django.urls import path

from . import webhooks

urlpatterns = [
    path("plants/<int:plant_id>/webhooks", webhooks.WebhookListView.as_view(), name="plant-webhooks"),
    path(
        "plants/<int:plant_id>/webhooks/<int:webhook_id>",
        webhooks.WebhookDetailView.as_view(),
        name="plant-webhook-detail",
    ),
    path(
        "plants/<int:plant_id>/webhooks/<int:webhook_id>/test",
        webhooks.WebhookTestView.as_view(),
        name="plant-webhook-test",
    ),
]
