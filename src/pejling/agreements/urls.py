from django.urls import path

from pejling.agreements import panels, views

app_name = "agreements"
urlpatterns = [
    # Fragments for the pages of lower apps (first: they would match the patterns below).
    path("units/<str:code>/list/", panels.unit_agreements, name="unit_agreements"),
    path("units/<str:code>/line-of-sight/", panels.unit_sight, name="unit_sight"),
    path("goals/<int:pk>/initiatives/", panels.goal_initiatives, name="goal_initiatives"),
    path("<str:unit_code>/<int:year>/", views.agreement_detail, name="agreement_detail"),
    path("<str:unit_code>/<int:year>/create/", views.agreement_create, name="agreement_create"),
    path("<str:unit_code>/<int:year>/edit/", views.agreement_edit, name="agreement_edit"),
    path("<str:unit_code>/<int:year>/history/", views.agreement_history, name="agreement_history"),
    path(
        "<str:unit_code>/<int:year>/versions/<int:number>/",
        views.agreement_version,
        name="agreement_version",
    ),
    path(
        "<str:unit_code>/<int:year>/initiatives/new/",
        views.initiative_edit,
        name="initiative_create",
    ),
    path(
        "<str:unit_code>/<int:year>/initiatives/<int:pk>/edit/",
        views.initiative_edit,
        name="initiative_edit",
    ),
    path(
        "<str:unit_code>/<int:year>/initiatives/<int:pk>/delete/",
        views.initiative_delete,
        name="initiative_delete",
    ),
    path(
        "<str:unit_code>/<int:year>/carry-forward/",
        views.agreement_carry_forward,
        name="agreement_carry_forward",
    ),
    path(
        "<str:unit_code>/<int:year>/<str:action>/",
        views.agreement_transition,
        name="agreement_transition",
    ),
]
