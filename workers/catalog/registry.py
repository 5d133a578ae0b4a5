"""Every model the system knows, read once per process from the catalog's data.

`get_model` takes an id or an alias and always answers with the model, whose `id` is the
canonical one a job stores.
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.catalog.loader import load
from workers.catalog.models import ModelSpec
from workers.errors import InvalidInput
from workers.settings import get_settings


@dataclass(frozen=True)
class Catalog:
    models: tuple[ModelSpec, ...]
    by_name: dict[str, ModelSpec]  # ids and aliases


_catalog: Catalog | None = None


def catalog() -> Catalog:
    """This process's catalog, loaded (and validated) on first use."""
    global _catalog
    if _catalog is None:
        models = load(get_settings().models_file)
        _catalog = Catalog(models, {name: spec for spec in models for name in spec.names})
    return _catalog


def reload() -> Catalog:
    """Read the catalog again (tests that change `MODELS_FILE`)."""
    global _catalog
    _catalog = None
    return catalog()


def all_models() -> tuple[ModelSpec, ...]:
    return catalog().models


def get_model(name: str) -> ModelSpec:
    """The model `name` (an id or an alias) stands for; an unknown name is a 422."""
    spec = catalog().by_name.get(name)
    if spec is None:
        known = ", ".join(spec.id for spec in all_models())
        raise InvalidInput.at("model", msg=f"unknown model {name!r}; known models: {known}")
    return spec
