"""Where submitted files come from: local folders (with an incremental stat cache) and
object-storage URLs through fsspec. Decisions live in :mod:`decide` (pure), SQL in
:mod:`cache`, the local walk in :mod:`local`, listing objects in :mod:`remote`, a
worker's download in :mod:`fetch`, and :mod:`submit` ties them together.
"""
