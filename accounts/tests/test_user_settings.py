"""Per-user settings (seed 000): created on first read, validated, scoped."""

from __future__ import annotations

import pytest

from accounts.models import UserSetting
from solarhub.testing.personas import api_client_for

pytestmark = pytest.mark.django_db


def test_first_read_creates_defaults(customer):
    assert not UserSetting.objects.filter(user=customer).exists()
    body = api_client_for(customer).get("/api/settings/me").json()
    assert set(body) == {
        "id", "userId", "defaultPlantId", "theme", "notifications", "preferences", "createdAt", "updatedAt",
    }  # fmt: skip
    assert body["userId"] == customer.id and body["theme"] == "dark" and body["defaultPlantId"] is None
    assert body["notifications"]["channels"] == {"email": True, "webhook": False}
    assert body["notifications"]["minSeverity"] == "major"
    assert body["notifications"]["quietHours"] == {"enabled": False, "start": "22:00", "end": "07:00"}
    assert UserSetting.objects.filter(user=customer).count() == 1


def test_update_merges_notifications_and_keeps_the_rest(customer, own_plant):
    client = api_client_for(customer)
    response = client.put(
        "/api/settings/me",
        {
            "theme": "light",
            "defaultPlantId": own_plant.id,
            "notifications": {"channels": {"webhook": True}, "webhookUrl": "https://hooks.example.com/x"},
            "preferences": {"chartRange": "7d"},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = client.get("/api/settings/me").json()
    assert body["theme"] == "light" and body["defaultPlantId"] == own_plant.id
    assert body["notifications"]["channels"] == {"email": True, "webhook": True}
    assert body["notifications"]["webhookUrl"] == "https://hooks.example.com/x"
    assert body["notifications"]["minSeverity"] == "major"
    assert body["preferences"] == {"chartRange": "7d"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"theme": "purple"}, "theme"),
        ({"notifications": {"minSeverity": "apocalyptic"}}, "notifications"),
        ({"notifications": {"quietHours": {"enabled": True, "start": "25:00", "end": "06:00"}}}, "notifications"),
        ({"notifications": {"webhookUrl": "http://insecure.example.com"}}, "notifications"),
        ({"notifications": {"webhookUrl": "https://not a host/x"}}, "notifications"),
        ({"notifications": {"webhookUrl": 'https://"><script>'}}, "notifications"),
        ({"preferences": "not an object"}, "preferences"),
    ],
)
def test_invalid_settings_are_400_and_change_nothing(customer, body, field):
    client = api_client_for(customer)
    before = client.get("/api/settings/me").json()
    response = client.put("/api/settings/me", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert client.get("/api/settings/me").json() == before


def test_a_webhook_url_can_be_cleared(customer):
    client = api_client_for(customer)
    client.put("/api/settings/me", {"notifications": {"webhookUrl": "https://hooks.example.com/x"}}, format="json")
    response = client.put("/api/settings/me", {"notifications": {"webhookUrl": ""}}, format="json")
    assert response.status_code == 200
    assert response.json()["notifications"]["webhookUrl"] == ""


def test_default_plant_must_be_visible(customer, other_plant):
    response = api_client_for(customer).put("/api/settings/me", {"defaultPlantId": other_plant.id}, format="json")
    assert response.status_code == 400
    assert "defaultPlantId" in response.json()["errors"]


def test_user_id_cannot_be_reassigned(customer, outsider):
    client = api_client_for(customer)
    client.put("/api/settings/me", {"userId": outsider.id, "theme": "light"}, format="json")
    assert UserSetting.objects.get(user=customer).theme == "light"
    assert not UserSetting.objects.filter(user=outsider).exists()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("anonymous", 401), ("customer", 403), ("installer", 403), ("outsider", 403), ("plant_admin", 200)],
)
def test_other_users_settings_are_plant_admin_only(request, customer, persona, expected):
    user = request.getfixturevalue(persona)
    response = api_client_for(user).get(f"/api/settings/users/{customer.id}")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["userId"] == customer.id


def test_unknown_user_settings_is_404(plant_admin):
    assert api_client_for(plant_admin).get("/api/settings/users/999999").status_code == 404


@pytest.mark.parametrize(
    ("persona", "expected"), [("anonymous", 401), ("customer", 200), ("installer", 200), ("plant_admin", 200)]
)
def test_own_endpoints_need_authentication(request, persona, expected):
    client = api_client_for(request.getfixturevalue(persona))
    for path in ("/api/settings/me", "/api/users/profile", "/api/auth/me"):
        assert client.get(path).status_code == expected, path
