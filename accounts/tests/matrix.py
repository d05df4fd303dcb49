"""Matrix entries of the accounts routes. Sign-in endpoints ignore the caller's token."""

from solarhub.testing.matrix import Route, everyone, expect

_signed_in = expect(customer=200, installer=200, plant_admin=200, outsider=200)
_bad_login = {"username": "nobody", "password": "wrong-password"}

MATRIX = [
    Route(
        "api:auth-register",
        "POST",
        lambda w, t: "/api/auth/register",
        everyone(201),
        body=lambda w, t: {
            "name": "New Person",
            "email": "new.person@example.com",
            "password": "sunny-Panels-42",
            "userType": "customer",
        },
    ),
    Route("api:auth-login", "POST", lambda w, t: "/api/auth/login", everyone(401), body=lambda w, t: _bad_login),
    Route(
        "api:auth-login-json", "POST", lambda w, t: "/api/auth/login/json", everyone(401), body=lambda w, t: _bad_login
    ),
    Route(
        "api:auth-token",
        "POST",
        lambda w, t: "/api/auth/token",
        everyone(401),
        body=lambda w, t: _bad_login,
        format="multipart",
    ),
    Route(
        "api:auth-refresh",
        "POST",
        lambda w, t: "/api/auth/refresh",
        everyone(401),
        body=lambda w, t: {"refresh": "x.y.z"},
    ),
    Route(
        "api:auth-logout",
        "POST",
        lambda w, t: "/api/auth/logout",
        expect(customer=400, installer=400, plant_admin=400, outsider=400),
        body=lambda w, t: {"refresh": "x.y.z"},
    ),
    # /api/v1/ shares these patterns (and names); its auth answers differ (seed 003), so its
    # branch of the views is checked here too.
    Route("api:auth-login", "POST", lambda w, t: "/api/v1/auth/login", everyone(401), body=lambda w, t: _bad_login),
    Route(
        "api:auth-login-json",
        "POST",
        lambda w, t: "/api/v1/auth/login/json",
        everyone(401),
        body=lambda w, t: _bad_login,
    ),
    Route(
        "api:auth-refresh",
        "POST",
        lambda w, t: "/api/v1/auth/refresh",
        everyone(401),
        body=lambda w, t: {"refresh_token": "x.y.z"},
    ),
    Route(
        "api:auth-logout",
        "POST",
        lambda w, t: "/api/v1/auth/logout",
        expect(customer=204, installer=204, plant_admin=204, outsider=204),
        body=lambda w, t: {},
    ),
    Route(
        "api:auth-google", "POST", lambda w, t: "/api/auth/google", everyone(503), body=lambda w, t: {"token": "a.b.c"}
    ),
    Route("api:auth-me", "GET", lambda w, t: "/api/auth/me", _signed_in),
    Route("api:user-profile", "GET", lambda w, t: "/api/users/profile", _signed_in),
    Route("api:user-profile", "PUT", lambda w, t: "/api/users/profile", _signed_in, body=lambda w, t: {"name": "N"}),
    Route("api:user-profile", "PATCH", lambda w, t: "/api/users/profile", _signed_in, body=lambda w, t: {"name": "N"}),
    Route("api:settings-me", "GET", lambda w, t: "/api/settings/me", _signed_in),
    Route("api:settings-me", "PUT", lambda w, t: "/api/settings/me", _signed_in, body=lambda w, t: {"theme": "light"}),
    Route(
        "api:settings-me", "PATCH", lambda w, t: "/api/settings/me", _signed_in, body=lambda w, t: {"theme": "light"}
    ),
    # defaultPlantId: a plant you cannot see is an unknown plant (400), as one that does not exist
    Route(
        "api:settings-me",
        "PUT",
        lambda w, t: "/api/settings/me",
        expect(customer=200, installer=200, plant_admin=200, outsider=400),
        expect(customer=400, installer=400, plant_admin=200, outsider=200),
        body=lambda w, t: {"defaultPlantId": w.plants[t].id},
    ),
    Route(
        "api:settings-user",
        "GET",
        lambda w, t: f"/api/settings/users/{w.users['customer'].id}",
        expect(customer=403, installer=403, plant_admin=200, outsider=403),
    ),
]
