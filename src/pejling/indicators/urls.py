from django.urls import path

from pejling.indicators import manage_views, views

app_name = "indicators"
urlpatterns = [
    path("", views.indicator_list, name="indicator_list"),
    path("new/", manage_views.indicator_edit, name="indicator_new"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/template/", manage_views.import_template, name="import_template"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("fetches/<int:pk>/", manage_views.fetch_detail, name="fetch_detail"),
    path("fetches/<int:pk>/run/", manage_views.fetch_run, name="fetch_run"),
    path("fetches/<int:pk>/delete/", manage_views.fetch_delete, name="fetch_delete"),
    path("goals/<int:pk>/", views.goal_panel, name="goal_panel"),
    path("goals/<int:pk>/link/", manage_views.goal_link, name="goal_link"),
    path("units/<str:code>/", views.unit_panel, name="unit_panel"),
    path("units/<str:code>/<str:indicator>/", views.unit_chart, name="unit_chart"),
    path("<str:code>/", views.indicator_detail, name="indicator_detail"),
    path("<str:code>/edit/", manage_views.indicator_edit, name="indicator_edit"),
    path("<str:code>/archive/", manage_views.indicator_archive, name="indicator_archive"),
    path("<str:code>/delete/", manage_views.indicator_delete, name="indicator_delete"),
    path("<str:code>/fetches/new/", manage_views.fetch_new, name="fetch_new"),
]
