"""Read the catalog: the shipped `models.yaml`, then the operator's `MODELS_FILE` over it.

The operator's file has the same shape (`models: [...]`). An entry whose id is already in
the catalog replaces the fields it names (top-level keys: give `inputs` whole); any other
entry is a new model. Everything is validated before anything is used: a mistake raises
`CatalogError` naming the file, the entry's id and the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workers.catalog.models import ModelSpec

SHIPPED = "models.yaml"


class CatalogError(ValueError):
    """The catalog's data is wrong; the message says where."""


def load(models_file: Path | None = None) -> tuple[ModelSpec, ...]:
    """Every model: the shipped ones, with `models_file`'s entries added or merged in."""
    shipped = resources.files("workers.catalog").joinpath(SHIPPED).read_text(encoding="utf-8")
    raw = _entries(yaml.safe_load(shipped), SHIPPED)
    if models_file is not None:
        try:
            text = models_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"MODELS_FILE {models_file}: cannot be read ({exc})") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CatalogError(f"MODELS_FILE {models_file}: not YAML ({exc})") from None
        raw = _merge(raw, _entries(data, str(models_file)))
    specs, problems = [], []
    for entry, origin in raw.values():
        try:
            specs.append(_validate(entry, origin))
        except CatalogError as exc:
            problems.append(str(exc))
    if problems:
        raise CatalogError("\n".join(problems))
    _check_names(specs)
    return tuple(specs)


def _entries(data: Any, origin: str) -> dict[str, tuple[dict[str, Any], str]]:
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise CatalogError(f"{origin}: must be a mapping with a `models` list")
    entries: dict[str, tuple[dict[str, Any], str]] = {}
    for index, entry in enumerate(data["models"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise CatalogError(f"{origin}: models[{index}]: an entry needs an `id` (a string)")
        if entry["id"] in entries:
            raise CatalogError(f"{origin}: model {entry['id']!r}: listed twice")
        entries[entry["id"]] = (entry, origin)
    return entries


def _merge(
    base: dict[str, tuple[dict[str, Any], str]], extra: dict[str, tuple[dict[str, Any], str]]
) -> dict[str, tuple[dict[str, Any], str]]:
    merged = dict(base)
    for model_id, (entry, origin) in extra.items():
        if model_id in merged:
            shipped, _ = merged[model_id]
            merged[model_id] = ({**shipped, **entry}, origin)
        else:
            merged[model_id] = (entry, origin)
    return merged


def _validate(entry: dict[str, Any], origin: str) -> ModelSpec:
    try:
        return ModelSpec.model_validate(entry)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise CatalogError(f"{origin}: model {entry['id']!r}: {problems}") from None


def _describe(error: Any) -> str:
    """`inputs.duration.choices.1: Input should be a valid number` — pydantic's union
    branch names (`tuple[...]`, `function-after[...]`) left out of the path."""
    path = [str(p) for p in error["loc"] if not ("[" in str(p) and str(p).endswith("]"))]
    where = ".".join(path) or "entry"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"


def _check_names(specs: Iterable[ModelSpec]) -> None:
    """Ids and aliases together must name one model each."""
    owner: dict[str, str] = {}
    for spec in specs:
        for name in spec.names:
            if name in owner and owner[name] != spec.id:
                raise CatalogError(
                    f"model {spec.id!r}: the name {name!r} already belongs to {owner[name]!r}"
                )
            owner[name] = spec.id
