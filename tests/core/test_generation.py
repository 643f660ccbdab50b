"""The data generation (``core/generation.py``): raised in the database once per committed
transaction that wrote a watched model, at once in the writing process, never by a rollback."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from django.db import transaction

from pejling.core import generation
from pejling.core.models import DataGeneration
from pejling.strategy.models import Strategy
from tests.factories import StrategyFactory


def stored() -> int:
    return DataGeneration.objects.filter(pk=1).values_list("value", flat=True).first() or 0


@pytest.fixture(autouse=True)
def _a_stored_generation(django_db_blocker: Any) -> None:
    """The row exists (a database that has seen writes), at a small number."""
    with django_db_blocker.unblock():
        DataGeneration.objects.update_or_create(pk=1, defaults={"value": 10})


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_raises_the_stored_generation_once_after_the_commit():
    before_stored, before = stored(), generation.current()
    with transaction.atomic():
        strategy = StrategyFactory()
        strategy.title = "Renamed"
        strategy.save()
        assert stored() == before_stored  # not inside the transaction: no lock held
        assert generation.current() != before  # but this process reads its own write
    assert stored() == before_stored + 1  # three writes, one raise


@pytest.mark.django_db(transaction=True)
def test_a_write_outside_a_transaction_raises_it_at_once_and_a_rollback_never():
    start = stored()
    pk = StrategyFactory().pk  # autocommit
    assert stored() == start + 1
    with pytest.raises(RuntimeError), transaction.atomic():
        Strategy.objects.filter(pk=pk).delete()
        raise RuntimeError
    assert stored() == start + 1
    assert Strategy.objects.filter(pk=pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_write_in_a_savepoint_rolled_back_leaves_the_outer_write_raising_it():
    start = stored()
    with transaction.atomic():
        try:
            with transaction.atomic():
                StrategyFactory()
                raise RuntimeError
        except RuntimeError:
            pass
        StrategyFactory(code="kept")
    assert stored() == start + 1


@pytest.mark.django_db(transaction=True)
def test_a_new_database_starts_at_the_clock_not_at_one():
    """A cache that outlived the database (files in the data directory) holds figures under
    small generations: a database made anew must not meet them again."""
    DataGeneration.objects.all().delete()
    assert generation.current() == "0"
    before = time.time_ns() // 1000
    generation.bump()
    assert before <= stored() <= time.time_ns() // 1000
    generation.bump()
    assert before < stored()


@pytest.mark.django_db(transaction=True)
def test_a_process_with_uncommitted_writes_keys_its_figures_as_its_own():
    """What a process computes from writes not yet committed (and perhaps rolled back) is
    cached under a key no other process reads; after the commit, under the shared one."""
    shared = generation.current()
    assert shared == str(stored())
    with transaction.atomic():
        StrategyFactory()
        own = generation.current()
        value, token, local = own.split(".")
        assert value == shared and len(token) == 16 and int(local) > 0
        StrategyFactory(code="second")
        assert generation.current() not in (own, shared)  # every write: a new key
    assert generation.current() == str(int(shared) + 1)
    with pytest.raises(RuntimeError), transaction.atomic():
        StrategyFactory(code="third")
        assert generation.current().count(".") == 2
        raise RuntimeError
    assert generation.current() == str(int(shared) + 1)  # a rollback: shared, unchanged


def test_a_forked_process_makes_a_token_of_its_own(monkeypatch: pytest.MonkeyPatch):
    """The server's workers fork from one master that may have made the token already."""
    mine = generation._process_token()
    assert generation._process_token() == mine
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as a forked child sees another pid
    theirs = generation._process_token()
    assert len(theirs) == 16 and theirs != mine


@pytest.mark.django_db
def test_a_cached_answer_is_computed_again_after_a_write_only():
    calls = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert generation.cached(("test", 1), compute) == 1
    assert generation.cached(("test", 1), compute) == 1
    assert generation.cached(("test", 2), compute) == 2  # other parts, another answer
    StrategyFactory()
    assert generation.cached(("test", 1), compute) == 3


@pytest.mark.django_db(transaction=True)
def test_a_request_reads_the_generation_once_and_again_after_its_own_write(
    django_assert_num_queries: Any,
):
    """Within a request the stored generation is read once (a page asks for the reader's
    memberships and its own figures: one query, not two); a write of the request's own makes
    the next read ask again, so what it shows after its write is not an old figure."""
    from django.core.signals import request_finished, request_started

    request_started.send(sender=None)
    try:
        with django_assert_num_queries(1):
            first = generation.current()
            assert generation.current() == first
        StrategyFactory()  # committed at once: the stored generation is raised
        with django_assert_num_queries(1):
            assert generation.current() != first
    finally:
        request_finished.send(sender=None)
    with django_assert_num_queries(2):  # outside a request: read every time
        generation.current()
        generation.current()


@pytest.mark.django_db(transaction=True)
def test_a_watch_of_named_fields_ignores_a_save_of_other_fields():
    """A person's name is shown on cached pages, a log-in's time is not: saving only
    ``last_login`` (what Django does at every log-in) leaves the generation as it was."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import update_last_login

    user = get_user_model().objects.create(username="anna", first_name="Anna")
    start = stored()
    update_last_login(None, user)
    assert stored() == start
    user.first_name = "Annika"
    user.save(update_fields=["first_name"])
    assert stored() == start + 1
    user.save()  # every field: may change a name
    assert stored() == start + 2
