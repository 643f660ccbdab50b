from django.urls import path

from pejling.reports import analysis_views, document_views, views

app_name = "board_reports"
urlpatterns = [
    path("", views.report_list, name="report_list"),
    path("new/", views.report_create, name="report_create"),
    path("<int:pk>/", views.report_detail, name="report_detail"),
    path("<int:pk>/finalise/", views.report_finalise, name="report_finalise"),
    path("<int:pk>/sections/<int:section_pk>/", views.section_detail, name="section_detail"),
    path(
        "<int:pk>/sections/<int:section_pk>/assign/",
        views.section_assign,
        name="section_assign",
    ),
    path(
        "<int:pk>/sections/<int:section_pk>/<slug:step>/",
        views.section_step,
        name="section_step",
    ),
    path("analyses/", analysis_views.analysis_start, name="analysis_start"),
    path(
        "analyses/<str:unit_code>/<int:period_id>/",
        analysis_views.analysis_list,
        name="analysis_list",
    ),
    path(
        "analyses/<str:unit_code>/<int:period_id>/<int:goal_id>/",
        analysis_views.analysis_edit,
        name="analysis_edit",
    ),
    path(
        "analyses/<str:unit_code>/<int:period_id>/<int:goal_id>/units/",
        analysis_views.analysis_rollup,
        name="analysis_rollup",
    ),
    path("documents/", document_views.document_list, name="document_list"),
    path("documents/new/", document_views.document_create, name="document_create"),
    path("documents/<int:pk>/", document_views.document_detail, name="document_detail"),
    path("documents/<int:pk>/retry/", document_views.document_retry, name="document_retry"),
    path(
        "documents/<int:pk>/download/",
        document_views.document_download,
        name="document_download",
    ),
]
