"""How each container lays out its parts: one module per container, walking structure only.

Stores (``carriers/``) read and write metadata on top of these walkers, and the
C2PA pre-scan (``c2pa/prescan.py``) looks through them for a manifest store;
no container is walked anywhere else.
"""
