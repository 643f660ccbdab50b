from django.urls import path

from pejling.indicators import views

app_name = "indicators"
urlpatterns = [
    path("", views.indicator_list, name="indicator_list"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("goals/<int:pk>/", views.goal_panel, name="goal_panel"),
    path("units/<str:code>/", views.unit_panel, name="unit_panel"),
    path("units/<str:code>/<str:indicator>/", views.unit_chart, name="unit_chart"),
    path("<str:code>/", views.indicator_detail, name="indicator_detail"),
]
