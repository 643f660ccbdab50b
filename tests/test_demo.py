import pytest
from django.apps import apps
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def counts():
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.app_label in {"organisation", "strategy", "agreements", "indicators", "auth"}
    }


def test_probe(capsys):
    import time
    t = time.time()
    call_command("demo")
    print("first", time.time() - t)
    first = counts()
    t = time.time()
    call_command("demo")
    print("second", time.time() - t)
    second = counts()
    for k in first:
        print(k, first[k], second[k], "" if first[k] == second[k] else "  <-- DIFF")
