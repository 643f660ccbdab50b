"""A small, strict JSON-stat reader (versions 1.x and 2.0).

Supported shapes:

- JSON-stat 2.0 ``{"class": "dataset", "id": [...], "size": [...], ...}``;
- JSON-stat 2.0 ``{"class": "collection", "link": {"item": [...]}}`` with
  embedded datasets (items that only link elsewhere are listed by
  :func:`collection_links`);
- JSON-stat 1.x bundles ``{"<name>": {"dimension": {"id": [...],
  "size": [...], "role": {...}, ...}, "value": ...}}``, as sent by the SSB
  PxWeb v0 API and the Statistics Denmark StatBank ``jsonstat`` format.

Values may be a dense list or a sparse object keyed by the flat index as
text; status may be one string for all cells, a one-element list, a full list
or a sparse object. A category ``index`` may be a list or an object of
positions, or be absent for a dimension with one category (then the single
``label`` key is the id). Cells are in row-major order: the last dimension in
``id`` varies fastest, whatever order the ``dimension`` object lists them in.

Values are returned as JSON gave them (int, float, str, None, or Decimal when
the text was parsed with :func:`load_json`). :func:`.dataset_observations.observations_from_dataset`
turns a dataset into :class:`~.records.Observation` records.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple


class JsonStatError(ValueError):
    """The payload is not JSON-stat this reader understands."""


def load_json(payload: str | bytes | Any) -> Any:
    """Decode JSON text with exact decimals; pass already-decoded data through.

    Text is parsed with ``parse_float=Decimal`` so ``14.9`` stays exactly
    ``Decimal('14.9')``. Bytes may start with a UTF-8 BOM.
    """
    if isinstance(payload, bytes | bytearray):
        payload = bytes(payload).decode("utf-8-sig")
    if isinstance(payload, str):
        return json.loads(payload.lstrip("\ufeff"), parse_float=Decimal)
    return payload


@dataclass(frozen=True, slots=True)
class Dimension:
    """One dimension: its category ids in index order, labels and units."""

    id: str
    label: str
    categories: tuple[str, ...]
    labels: Mapping[str, str]
    units: Mapping[str, Mapping[str, Any]]
    positions: Mapping[str, int]

    def __len__(self) -> int:
        return len(self.categories)

    def label_of(self, category: str) -> str:
        return self.labels.get(category, category)

    def position(self, category: str) -> int:
        try:
            return self.positions[category]
        except KeyError:
            raise KeyError(f"Dimension {self.id!r} has no category {category!r}.") from None


class Cell(NamedTuple):
    categories: dict[str, str]
    value: Any
    status: str | None


@dataclass(frozen=True, slots=True)
class Dataset:
    """A JSON-stat dataset, with values addressable by flat index."""

    ids: tuple[str, ...]
    sizes: tuple[int, ...]
    dimensions: Mapping[str, Dimension]
    values: Sequence[Any] | Mapping[str, Any]
    status: str | Sequence[Any] | Mapping[str, Any] | None = None
    label: str | None = None
    source: str | None = None
    updated: str | None = None
    role: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    extension: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None

    def __len__(self) -> int:
        return math.prod(self.sizes)

    @property
    def strides(self) -> tuple[int, ...]:
        strides = [1] * len(self.sizes)
        for i in range(len(self.sizes) - 2, -1, -1):
            strides[i] = strides[i + 1] * self.sizes[i + 1]
        return tuple(strides)

    def value_at(self, index: int) -> Any:
        if isinstance(self.values, Mapping):
            return self.values.get(str(index))
        return self.values[index]

    def status_at(self, index: int) -> str | None:
        status = self.status
        if status is None:
            return None
        if isinstance(status, str):
            return status
        if isinstance(status, Mapping):
            found = status.get(str(index))
            return None if found is None else str(found)
        if len(status) == 1:
            return None if status[0] is None else str(status[0])
        found = status[index] if index < len(status) else None
        return None if found is None else str(found)

    def index_of(self, categories: Mapping[str, str]) -> int:
        """Flat index of the cell with these category ids (one per dimension).

        A dimension with a single category may be left out.
        """
        index = 0
        for dim_id, stride in zip(self.ids, self.strides, strict=True):
            dimension = self.dimensions[dim_id]
            if dim_id in categories:
                index += dimension.position(categories[dim_id]) * stride
            elif len(dimension) != 1:
                raise KeyError(f"No category given for dimension {dim_id!r}.")
        return index

    def get(self, **categories: str) -> Any:
        """Value of one cell: ``dataset.get(area="AU", year="2003")``."""
        return self.value_at(self.index_of(categories))

    def cells(self) -> Iterator[Cell]:
        """Every cell in row-major order, missing sparse cells as ``None``."""
        ids = self.ids
        for index, combination in enumerate(
            itertools.product(*(self.dimensions[d].categories for d in ids))
        ):
            yield Cell(
                dict(zip(ids, combination, strict=True)),
                self.value_at(index),
                self.status_at(index),
            )

    def dimensions_with_role(self, role: str) -> tuple[str, ...]:
        return self.role.get(role, ())


def _dimension(dim_id: str, raw: Any) -> Dimension:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("category"), Mapping):
        raise JsonStatError(f"Dimension {dim_id!r} has no category object.")
    category = raw["category"]
    labels = category.get("label") or {}
    if not isinstance(labels, Mapping):
        raise JsonStatError(f"Dimension {dim_id!r}: category.label must be an object.")
    index = category.get("index")
    if index is None:
        if len(labels) != 1:
            raise JsonStatError(
                f"Dimension {dim_id!r} has no category.index and not exactly one label."
            )
        ids: tuple[str, ...] = (str(next(iter(labels))),)
    elif isinstance(index, list):
        ids = tuple(str(i) for i in index)
    elif isinstance(index, Mapping):
        ordered = sorted(index.items(), key=lambda item: int(item[1]))
        if [int(pos) for _, pos in ordered] != list(range(len(ordered))):
            raise JsonStatError(f"Dimension {dim_id!r}: category.index positions are not 0..n-1.")
        ids = tuple(str(cat) for cat, _ in ordered)
    else:
        raise JsonStatError(f"Dimension {dim_id!r}: category.index must be a list or object.")
    if len(set(ids)) != len(ids):
        raise JsonStatError(f"Dimension {dim_id!r} repeats a category id.")
    units = category.get("unit") or {}
    return Dimension(
        id=dim_id,
        label=str(raw.get("label", dim_id)),
        categories=ids,
        labels={str(k): str(v) for k, v in labels.items()},
        units=dict(units) if isinstance(units, Mapping) else {},
        positions={cat: pos for pos, cat in enumerate(ids)},
    )


def _is_dataset(obj: Any) -> bool:
    return isinstance(obj, Mapping) and "dimension" in obj and "value" in obj


def _ids_and_sizes(
    obj: Mapping[str, Any], dims_raw: Mapping[str, Any]
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    # 2.0 keeps id/size at the top; 1.x keeps them inside "dimension".
    ids_raw = obj.get("id", dims_raw.get("id"))
    sizes_raw = obj.get("size", dims_raw.get("size"))
    if not isinstance(ids_raw, list) or not isinstance(sizes_raw, list):
        raise JsonStatError("A dataset needs 'id' and 'size' lists.")
    if len(ids_raw) != len(sizes_raw):
        raise JsonStatError("'id' and 'size' differ in length.")
    try:
        sizes = tuple(int(s) for s in sizes_raw)
    except (TypeError, ValueError):
        raise JsonStatError("'size' must hold integers.") from None
    return tuple(str(i) for i in ids_raw), sizes


def _dimensions(
    ids: tuple[str, ...], sizes: tuple[int, ...], dims_raw: Mapping[str, Any]
) -> dict[str, Dimension]:
    dimensions: dict[str, Dimension] = {}
    for dim_id, size in zip(ids, sizes, strict=True):
        if dim_id not in dims_raw:
            raise JsonStatError(f"Dimension {dim_id!r} is listed in 'id' but not described.")
        dimension = _dimension(dim_id, dims_raw[dim_id])
        if len(dimension) != size:
            raise JsonStatError(
                f"Dimension {dim_id!r} has {len(dimension)} categories but size says {size}."
            )
        dimensions[dim_id] = dimension
    return dimensions


def _check_values_and_status(obj: Mapping[str, Any], total: int) -> None:
    values = obj["value"]
    if isinstance(values, list):
        if len(values) != total:
            raise JsonStatError(
                f"'value' has {len(values)} items but the sizes give {total} cells."
            )
    elif not isinstance(values, Mapping):
        raise JsonStatError("'value' must be a list or an object.")
    status = obj.get("status")
    if status is not None and not isinstance(status, str | list | Mapping):
        raise JsonStatError("'status' must be a string, list or object.")


def parse_dataset(obj: Mapping[str, Any], name: str | None = None) -> Dataset:
    """Read one dataset object (JSON-stat 2.0, or a 1.x bundle member)."""
    if not _is_dataset(obj):
        raise JsonStatError("A dataset needs 'dimension' and 'value'.")
    dims_raw = obj["dimension"]
    if not isinstance(dims_raw, Mapping):
        raise JsonStatError("'dimension' must be an object.")
    ids, sizes = _ids_and_sizes(obj, dims_raw)
    dimensions = _dimensions(ids, sizes, dims_raw)
    _check_values_and_status(obj, math.prod(sizes))
    role_raw = obj.get("role", dims_raw.get("role")) or {}
    role: dict[str, tuple[str, ...]] = {}
    if isinstance(role_raw, Mapping):
        role = {
            str(k): tuple(str(d) for d in v) for k, v in role_raw.items() if isinstance(v, list)
        }
    extension = obj.get("extension")
    return Dataset(
        ids=ids,
        sizes=sizes,
        dimensions=dimensions,
        values=obj["value"],
        status=obj.get("status"),
        label=obj.get("label"),
        source=obj.get("source"),
        updated=obj.get("updated"),
        role=role,
        extension=extension if isinstance(extension, Mapping) else {},
        name=name,
    )


def read_datasets(payload: Any) -> list[Dataset]:
    """Every dataset in a JSON-stat response, in document order.

    ``payload`` may be JSON text, bytes or decoded data. Collection items
    that only link to a dataset elsewhere are not fetched (see
    :func:`collection_links`).
    """
    data = load_json(payload)
    if not isinstance(data, Mapping):
        raise JsonStatError("A JSON-stat response is a JSON object.")
    kind = data.get("class")
    if kind == "dataset" or (kind is None and _is_dataset(data)):
        return [parse_dataset(data)]
    if kind == "collection":
        items = (data.get("link") or {}).get("item") or []
        return [
            parse_dataset(item, name=item.get("href") or item.get("label"))
            for item in items
            if isinstance(item, Mapping) and _is_dataset(item)
        ]
    if kind is not None and kind != "bundle":
        raise JsonStatError(f"Unsupported JSON-stat class {kind!r}.")
    found = [parse_dataset(obj, name=str(key)) for key, obj in data.items() if _is_dataset(obj)]
    if not found:
        raise JsonStatError("No JSON-stat dataset found in the response.")
    return found


def read_dataset(payload: Any, name: str | None = None) -> Dataset:
    """The single dataset in a response, or the one called ``name`` in a bundle."""
    datasets = read_datasets(payload)
    if name is not None:
        for dataset in datasets:
            if dataset.name == name:
                return dataset
        raise JsonStatError(f"No dataset called {name!r}.")
    if len(datasets) != 1:
        raise JsonStatError(f"Expected one dataset, found {len(datasets)}; pass a name.")
    return datasets[0]


def collection_links(payload: Any) -> list[str]:
    """``href`` of every collection item that is not embedded."""
    data = load_json(payload)
    if not isinstance(data, Mapping) or data.get("class") != "collection":
        return []
    items = (data.get("link") or {}).get("item") or []
    return [
        str(item["href"])
        for item in items
        if isinstance(item, Mapping) and "href" in item and not _is_dataset(item)
    ]


def iter_values(payload: Any) -> Iterator[tuple[dict[str, str], Any]]:
    """Yield ``(categories, value)`` for every cell of every dataset, row-major.

    ``categories`` maps each dimension id to a category id. Missing cells of
    a sparse dataset are yielded with value ``None``.
    """
    datasets = [payload] if isinstance(payload, Dataset) else read_datasets(payload)
    for dataset in datasets:
        for cell in dataset.cells():
            yield cell.categories, cell.value
