from django.urls import path

from pejling.sso import views

app_name = "sso"
urlpatterns = [
    path("groups/", views.group_roles, name="group_roles"),
    path("groups/<int:pk>/delete/", views.group_role_delete, name="group_role_delete"),
]
