"""Portable strategy packages: the organisation, its strategies, indicators and agreements as
one YAML or JSON file (``pejling dump``), loaded back idempotently by ``pejling load``.

See docs/packages.md for the format and schema/pejling-package.schema.json for its schema.
"""
