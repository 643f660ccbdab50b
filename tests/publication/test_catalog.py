"""The DCAT-AP catalogue: it parses in all three forms to the same graph, meets SHACL shapes of
DCAT-AP(-SE)'s required properties, and every distribution's URL answers with its format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF

from pejling.core.history import SYSTEM
from pejling.publication import services
from pejling.publication.models import PublicationSettings
from pejling.strategy.models import Strategy

pytestmark = pytest.mark.django_db

SHAPES = Path(__file__).with_name("dcat_ap_se_shapes.ttl")


@pytest.fixture
def published(settings: Any, cascade: Any) -> None:
    settings.PEJLING_PUBLIC_SITE = True
    row = PublicationSettings(
        enabled=True, publisher_name="Testkommun", contact_email="data@test.example"
    )
    services.settings_save(row=row, by=SYSTEM)
    services.strategies_publish(public=Strategy.objects.all(), by=SYSTEM)


def _graph(client: Any, name: str, fmt: str) -> Graph:
    response = client.get(f"/open/data/{name}")
    assert response.status_code == 200
    return Graph().parse(data=response.content.decode(), format=fmt)


def test_the_catalogue_parses_the_same_in_json_ld_turtle_and_rdf_xml(published, client):
    jsonld = _graph(client, "catalog.jsonld", "json-ld")
    turtle = _graph(client, "catalog.ttl", "turtle")
    xml = _graph(client, "catalog.rdf", "xml")
    assert len(jsonld) > 100
    assert isomorphic(jsonld, turtle) and isomorphic(turtle, xml)


def test_the_catalogue_meets_the_shapes_of_dcat_ap_se(published, client):
    graph = _graph(client, "catalog.ttl", "turtle")
    shapes = Graph().parse(SHAPES, format="turtle")
    conforms, _report, text = validate(graph, shacl_graph=shapes)
    assert conforms, text
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 4


def test_the_shapes_catch_a_catalogue_without_a_contact_e_mail(published, client):
    graph = _graph(client, "catalog.ttl", "turtle")
    for contact in list(
        graph.subjects(RDF.type, URIRef("http://www.w3.org/2006/vcard/ns#Organization"))
    ):
        graph.remove((contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail"), None))
    conforms, _report, _text = validate(graph, shacl_graph=Graph().parse(SHAPES, format="turtle"))
    assert not conforms


def test_every_distribution_answers_in_its_media_type(published, client):
    graph = _graph(client, "catalog.ttl", "turtle")
    distributions = list(graph.subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) == 11
    for dist in distributions:
        url = str(graph.value(dist, DCAT.downloadURL))
        media = str(graph.value(dist, DCAT.mediaType)).rsplit("media-types/", 1)[1]
        response = client.get(url.replace("http://testserver", ""))
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith(media), url
        assert graph.value(dist, DCTERMS.license) is not None
