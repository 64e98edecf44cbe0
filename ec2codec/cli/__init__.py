"""The cli layer: the ``ec2codec`` command line.

Owns argument parsing and the commands (:mod:`.app`), their shared helpers
(:mod:`._common`) and the import-snapshot workflow (:mod:`.import_snapshot`).

May import: every other layer, and tqdm (progress bars).
"""
