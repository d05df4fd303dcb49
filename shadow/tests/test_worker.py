"""A shadow analysis requested over HTTP (gunicorn) runs on a real Celery worker process from
Redis, reports progress, and completes with its files — everything a separate process, as in
production."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from shadow.models import ShadowRun
from shadow.scenes import box, rows_scene
from solarhub.testing.personas import make_plant
from solarhub.testing.server import gunicorn_server
from solarhub.testing.worker import celery_worker, worker_env, worker_log
from twins.services import twin_create

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _request(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    req = urllib.request.Request(url, method=method, headers=headers, data=data)
    with urllib.request.urlopen(req, timeout=15) as response:
        return response.status, json.loads(response.read())


def test_a_real_worker_computes_a_shadow_run(customer, installer, redis_url, tmp_path):
    plant = make_plant(name="Worker roof", owner=customer, installer=installer)
    chimney = box(name="chimney", centre=(-2.0, 1.75, 4.2), size=(0.9, 3.5, 0.9))
    twin_create(plant=plant, by=None, twin_data=rows_scene(rows=3, per_row=6, gcr=0.45, obstacles=[chimney]))
    env = worker_env(redis_url, MEDIA_ROOT=str(tmp_path / "media"))
    token = str(RefreshToken.for_user(customer).access_token)
    body = {"plantId": plant.pk, "parameters": {"start": "2026-12-01", "end": "2026-12-31", "stepMinutes": 30}}
    with celery_worker(env) as worker, gunicorn_server(env, settings_module="solarhub.settings.local") as base:
        status, accepted = _request("POST", f"{base}/api/shadow-analysis", token, body)
        assert status == 202 and accepted["status"] == "queued"
        deadline = time.monotonic() + 120
        seen = set()
        while True:
            status, run = _request("GET", f"{base}{accepted['statusUrl']}", token)
            seen.add(run["status"])
            if run["status"] in ("completed", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        log = worker_log(worker)
        picture = urllib.request.urlopen(
            urllib.request.Request(
                f"{base}{accepted['statusUrl']}/heatmap.png", headers={"Authorization": f"Bearer {token}"}
            ),
            timeout=15,
        ).read()

    assert run["status"] == "completed", (run, log)
    assert run["progress"] == 100 and run["resultSummary"]["annual"]["lossKwh"] > 0
    assert picture.startswith(b"\x89PNG")
    assert "solarhub.run_job" in log and "succeeded" in log
    stored = ShadowRun.objects.get(pk=accepted["id"])
    assert stored.job.attempts == 1 and stored.job.status == "completed"
    assert (tmp_path / "media" / stored.artifacts["npz"]).is_file()
