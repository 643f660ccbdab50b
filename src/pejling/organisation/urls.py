from django.urls import path

from pejling.organisation import views

app_name = "organisation"
urlpatterns = [
    path("", views.unit_list, name="unit_list"),
    # Two segments: never a unit's page (a unit code has no "/").
    path("sync/runs/", views.sync_runs, name="sync_runs"),
    path("<str:code>/", views.unit_detail, name="unit_detail"),
]
