"""Matrix entries of the project package's routes: health, docs, jobs."""

from solarhub.testing.matrix import Route, everyone, expect, ids_of

MATRIX = [
    Route("root", "GET", lambda w, t: "/", everyone(200)),
    Route("health", "GET", lambda w, t: "/health", everyone(200)),
    Route("health-live", "GET", lambda w, t: "/health/live", everyone(200)),
    Route("health-ready", "GET", lambda w, t: "/health/ready", everyone(200)),
    # 200 for everybody, but only plant_admins (and the HEALTH_TOKEN) see the dependency details;
    # the others get {status, service, version} (solarhub/tests/test_health.py checks the bodies).
    Route("health-detailed", "GET", lambda w, t: "/health/detailed", everyone(200)),
    Route("schema", "GET", lambda w, t: "/api/schema/", everyone(200)),
    Route("swagger-ui", "GET", lambda w, t: "/api/docs/", everyone(200)),
    Route("redoc", "GET", lambda w, t: "/api/redoc/", everyone(200)),
    Route(
        "api:job-list",
        "GET",
        lambda w, t: "/api/jobs",
        expect(customer=200, installer=200, plant_admin=200, outsider=200),
        visible=ids_of("plantId", "plants"),  # the world has a job on each plant, none plant-less
    ),
    Route(
        "api:job-detail",
        "GET",
        lambda w, t: f"/api/jobs/{w.jobs[t].id}",
        own=expect(customer=200, installer=200, plant_admin=200, outsider=404),
        other=expect(customer=404, installer=404, plant_admin=200, outsider=200),
    ),
    Route(
        "api:job-selfcheck",
        "POST",
        lambda w, t: "/api/jobs/selfcheck",
        expect(customer=403, installer=403, plant_admin=202, outsider=403),
    ),
]
