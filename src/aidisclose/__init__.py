"""aidisclose: AI-usage, consent and attribution metadata written into media files.

The public API that export hooks call::

    import aidisclose
    record = aidisclose.load_record("record.toml")
    result = aidisclose.stamp("shot010.jpg", record, output_dir="delivery/")
    report = aidisclose.inspect_file("delivery/shot010.jpg")
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import DisclosureError
from .inspect import InspectResult, inspect_file
from .record import DisclosureRecord, load_record
from .stamp import StampResult, stamp

__all__ = [
    "DisclosureError",
    "DisclosureRecord",
    "InspectResult",
    "StampResult",
    "__version__",
    "inspect_file",
    "load_record",
    "stamp",
]
