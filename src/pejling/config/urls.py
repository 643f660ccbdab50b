from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from pejling.agreements import urls as agreements_urls
from pejling.api.api import api
from pejling.core import views as core_views
from pejling.followup import urls as followup_urls
from pejling.overview import urls as overview_urls
from pejling.overview import views as overview_views
from pejling.publication import urls as publication_urls
from pejling.sso import lazy as sso_lazy
from pejling.sso import views as sso_views

# The dashboard and compliance pages moved from followup to overview, keeping their paths and
# names (followup:dashboard, followup:compliance): one namespace, both apps' patterns.
followup_namespace = ([*overview_urls.followup_urlpatterns, *followup_urls.urlpatterns], "followup")
# The agreements list reads the annual cycle (followup): it is served by overview, in the
# agreements namespace (agreements:agreement_list).
agreements_namespace = (
    [*overview_urls.agreements_urlpatterns, *agreements_urls.urlpatterns],
    "agreements",
)

urlpatterns = [
    path("", overview_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("", include("pejling.ops.urls")),  # health/live, health/ready, metrics
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("accounts/login/", sso_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("organisation/", include("pejling.organisation.urls")),
    path("strategies/", include("pejling.strategy.urls")),
    path("agreements/", include(agreements_namespace)),
    path("indicators/", include("pejling.indicators.urls")),
    path("followup/", include(followup_namespace)),
    path("portfolio/", include("pejling.portfolio.urls")),
    path("reports/", include("pejling.followup.reporting_urls")),
    path("board-reports/", include("pejling.reports.urls")),
    # The public site and open data (docs/open-data.md); the office's preview and settings.
    path("open/", include((publication_urls.site_urlpatterns, "public"))),
    path("publication/preview/", include((publication_urls.site_urlpatterns, "preview"))),
    path("publication/", include((publication_urls.publisher_urlpatterns, "publication"))),
    path("audit/", include("pejling.audit.urls")),
    path("sso/", include("pejling.sso.urls")),
    # OpenID Connect and SAML 2.0: their libraries are imported at first use (sso/lazy.py).
    path("sso/oidc/", include(sso_lazy.oidc_urlpatterns)),
    path("sso/saml/", include(sso_lazy.saml_urlpatterns)),  # SAML 2.0 service provider
    path("api/v1/", api.urls),
    path("api/", include("pejling.api.urls")),
    path("admin/", admin.site.urls),
]

# Error pages in the layout, in the reader's language (core/views.py).
handler403 = "pejling.core.views.error_403"
handler404 = "pejling.core.views.error_404"
handler500 = "pejling.core.views.error_500"
