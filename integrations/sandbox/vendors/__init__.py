"""The vendors the sandbox plays, one module each.

Importing this package imports every module in it; each registers its renderers (canonical
record -> vendor objects) with the store and its `Vendor` class here, so adding a vendor is
adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from integrations.sandbox.routing import Vendor

VENDOR_CLASSES: dict[str, type[Vendor]] = {}


def register_vendor(cls: type[Vendor]) -> type[Vendor]:
    """Class decorator for a vendor's server side."""
    VENDOR_CLASSES[cls.name] = cls
    return cls


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
