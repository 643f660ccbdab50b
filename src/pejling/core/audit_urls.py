from django.urls import path

from pejling.core import audit

app_name = "audit"
urlpatterns = [
    path("", audit.audit_trail, name="trail"),
    path("export.csv", audit.audit_export, name="export"),
]
