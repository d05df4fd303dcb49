"""URL patterns of the accounts API, without trailing slashes (seed 001 / seed 003 paths)."""

from django.urls import path

from . import views

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/login/json", views.LoginJsonView.as_view(), name="auth-login-json"),
    path("auth/token", views.TokenView.as_view(), name="auth-token"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/google", views.GoogleLoginView.as_view(), name="auth-google"),
    path("auth/me", views.MeView.as_view(), name="auth-me"),
    path("users/profile", views.UserProfileView.as_view(), name="user-profile"),
    path("settings/me", views.MySettingsView.as_view(), name="settings-me"),
    path("settings/users/<int:user_id>", views.UserSettingsView.as_view(), name="settings-user"),
]
