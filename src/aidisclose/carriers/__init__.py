"""Carriers: where and how each record field is stored in a file, one module per carrier."""
