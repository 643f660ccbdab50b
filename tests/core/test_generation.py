"""The data generation (``core/generation.py``): raised in the database once per committed
transaction that wrote a watched model, at once in the writing process, never by a rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

from pejling.core import generation
from pejling.core.models import DataGeneration
from pejling.strategy.models import Strategy
from tests.factories import StrategyFactory


def stored() -> int:
    return DataGeneration.objects.filter(pk=1).values_list("value", flat=True).first() or 0


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
def test_an_emptied_table_starts_again():
    DataGeneration.objects.all().delete()
    assert generation.current().startswith("0.")
    generation.bump()
    assert stored() == 1


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
