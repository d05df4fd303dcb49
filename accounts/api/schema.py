"""OpenAPI security schemes: Bearer JWT, and the OAuth2 password flow so Swagger UI's
Authorize button can sign in with a username and password (``POST /api/auth/token``)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTWithPasswordFlowScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTAuthentication"
    name = ["jwtAuth", "oauth2Password"]
    priority = 1  # wins over drf-spectacular's built-in simplejwt extension

    def get_security_requirement(self, auto_schema):
        return [{"jwtAuth": []}, {"oauth2Password": []}]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "oauth2", "flows": {"password": {"tokenUrl": "/api/auth/token", "scopes": {}}}},
        ]
