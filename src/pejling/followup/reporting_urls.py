from django.urls import path

from pejling.followup import reporting_views as views

app_name = "reports"
urlpatterns = [
    path("comments/add/", views.comment_add, name="comment_add"),
    path("<str:unit_code>/", views.unit_reports, name="unit_reports"),
    path("<str:unit_code>/<int:deadline_id>/", views.report_period, name="report_period"),
]
