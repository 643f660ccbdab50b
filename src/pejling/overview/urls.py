"""The overview's URLs. The dashboard and the compliance matrix keep the paths and names they
had in followup (``/followup/dashboard/``, ``followup:dashboard``): config/urls.py mounts
``followup_urlpatterns`` in the ``followup`` namespace together with followup's own."""

from django.urls import path

from pejling.overview import views

followup_urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("compliance/", views.compliance, name="compliance"),
]
