"""The overview's URLs. The dashboard and the compliance matrix keep the paths and names they
had in followup (``/followup/dashboard/``, ``followup:dashboard``): config/urls.py mounts
``followup_urlpatterns`` in the ``followup`` namespace together with followup's own."""

from django.urls import path

from pejling.overview import agreement_list, views

followup_urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("compliance/", views.compliance, name="compliance"),
]

# The agreements list keeps /agreements/ and agreements:agreement_list (mounted with the
# agreements' own patterns in config/urls.py).
agreements_urlpatterns = [
    path("", agreement_list.agreement_list, name="agreement_list"),
]
