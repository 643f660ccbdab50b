from django.urls import path

from pejling.followup import panels, views

app_name = "followup"
urlpatterns = [
    path("cycle/", views.cycle, name="cycle"),
    path("cycle/calendar/reset/", views.calendar_reset, name="calendar_reset"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("goals/<int:pk>/assess/", views.assess, name="assess"),
    path("units/<str:code>/overdue/", views.unit_overdue_panel, name="unit_overdue"),
    path(
        "agreements/<str:unit_code>/<int:year>/comments/",
        panels.agreement_comments,
        name="agreement_comments",
    ),
    path(
        "agreements/<str:unit_code>/<int:year>/reporting/",
        panels.agreement_reporting,
        name="agreement_reporting",
    ),
]
