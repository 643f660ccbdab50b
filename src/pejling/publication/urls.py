"""The public site (``/open/``, namespace ``public``), the strategy office's preview of it
(``/publication/preview/``, namespace ``preview``: the same views) and the publisher's page
(``/publication/``, namespace ``publication``). docs/open-data.md lists the URL scheme."""

from __future__ import annotations

from django.urls import path

from pejling.publication import catalog, data, publisher, views

site_urlpatterns = [
    path("", views.root, name="root"),
    path("accessibility/", views.accessibility_root, name="accessibility_root"),
    path("data/catalog.jsonld", catalog.catalog, {"filename": "catalog.jsonld"}, name="catalog"),
    path("data/catalog.ttl", catalog.catalog, {"filename": "catalog.ttl"}, name="catalog_ttl"),
    path("data/catalog.rdf", catalog.catalog, {"filename": "catalog.rdf"}, name="catalog_rdf"),
    path("data/<str:filename>", data.data_file, name="data_file"),
    path("<str:lang>/", views.home, name="home"),
    path("<str:lang>/strategies/<slug:code>/", views.strategy_detail, name="strategy"),
    path(
        "<str:lang>/strategies/<slug:code>/<str:element>/",
        views.element_detail,
        name="element",
    ),
    path("<str:lang>/agreements/", views.agreement_list, name="agreement_list"),
    path("<str:lang>/agreements/<int:year>/", views.agreement_list, name="agreement_year"),
    path(
        "<str:lang>/agreements/<int:year>/<str:unit>/",
        views.agreement_detail,
        name="agreement",
    ),
    path("<str:lang>/indicators/", views.indicator_list, name="indicator_list"),
    path("<str:lang>/indicators/<str:code>/", views.indicator_detail, name="indicator"),
    path("<str:lang>/search/", views.search, name="search"),
    path("<str:lang>/data/", views.open_data, name="open_data"),
    path("<str:lang>/accessibility/", views.accessibility, name="accessibility"),
]

publisher_urlpatterns = [
    path("", publisher.settings_page, name="settings"),
    path("history/", publisher.history_page, name="history"),
]
