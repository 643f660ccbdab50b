from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.sso.idp_oidc import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("harness/users", views.harness_user, name="harness_user"),
    path("harness/clients", views.harness_client, name="harness_client"),
    path("harness/wrong-jwks.json", views.wrong_jwks, name="harness_wrong_jwks"),
]
