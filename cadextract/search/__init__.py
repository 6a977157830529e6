"""Find anything in the results: the search index, the `search` query language, the SQL views.

- ``document``: what a result document puts into the index (a pure function);
- ``query``: the user's web-search syntax and filters, parsed and checked (pure);
- ``store``: the SQL that writes, rebuilds and searches the index;
- ``sqlviews``: the public views in the ``cadextract`` schema (docs/sql.md).
"""
