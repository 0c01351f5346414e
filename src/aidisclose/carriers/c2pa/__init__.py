"""C2PA content credentials through the official SDK (c2pa-python): sign last, read and validate.

``identity`` (who signs, and a test CA), ``manifest`` (what is signed),
``signing``, ``reading`` (validation state per file), ``prescan`` (a look at
the headers before the SDK is asked) and ``place`` (where each format keeps its
manifest store, filled in by the format table).
"""
