"""The ``licence-prefilter`` demo: synthetic applications, three trained versions, the spec."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

SERVICE_NAME = "licence-prefilter"


def spec_resource() -> Traversable:
    """The demo service spec, shipped as package data (read it with ``.read_text()``)."""
    return resources.files(__name__).joinpath(f"{SERVICE_NAME}.yaml")


def suite_resource() -> Traversable:
    """The demo service's test suite, shipped as package data beside the spec."""
    return resources.files(__name__).joinpath(f"{SERVICE_NAME}.tests.yaml")
