"""The demo storage site (``seed_demo``): the registry of seed 003's site, its tariff and schedule."""

from __future__ import annotations

import pytest

from demo.seed import DEMO_STORAGE_CODE, demo_seed
from plants.models import Plant
from solarhub.testing.personas import api_client_for
from storage.demo import demo_storage_seed
from storage.models import DispatchEvent, StorageTariff

pytestmark = pytest.mark.django_db


def test_the_demo_storage_site(plant_admin):
    demo_seed()
    plant = Plant.objects.get(plant_code=DEMO_STORAGE_CODE)
    sidebar = api_client_for(plant_admin).get(f"/api/v1/config/sidebar?plantId={plant.pk}").json()
    assert (sidebar["bess_number"], sidebar["pcs_number"], sidebar["inverter_number"]) == (2, 2, 2)
    assert (sidebar["rack_number"], sidebar["total_racks"], sidebar["meter_number"]) == (12, 24, 3)
    assert sidebar["cctv_url"].startswith("https://")
    assert StorageTariff.objects.filter(plant=plant).exists()
    events = DispatchEvent.objects.filter(plant=plant).count()
    assert events == 16 * 3 and demo_storage_seed(plant_code=DEMO_STORAGE_CODE) == 0  # idempotent
    table = api_client_for(plant_admin).get(f"/api/v1/bess/2?plantId={plant.pk}").json()
    assert table["table_head"][-1] == "Rack 12"
