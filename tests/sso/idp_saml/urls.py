from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.sso.idp_saml import views

urlpatterns = [
    # Before djangosaml2idp's own sso/<binding>/: the redirect binding is checked here first.
    path("idp/sso/redirect/", views.sso_redirect, name="idp_sso_redirect"),
    path("idp/", include("djangosaml2idp.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("harness/person/", views.harness_person),
    path("harness/sp/", views.harness_service_provider),
]
