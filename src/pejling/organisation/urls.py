from django.urls import path

from pejling.organisation import views

app_name = "organisation"
urlpatterns = [
    path("", views.unit_list, name="unit_list"),
    path("<str:code>/", views.unit_detail, name="unit_detail"),
]
