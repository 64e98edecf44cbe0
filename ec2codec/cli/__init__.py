"""The cli layer: the ``ec2codec`` command line.

Owns argument parsing, global options and dispatch (:mod:`.app`), the
commands over the codec and the client (:mod:`.commands`), the import-snapshot
workflow (:mod:`.import_snapshot`), the AWS CLI's output formats
(:mod:`.output`, :mod:`._table`) and automatic pagination (:mod:`.paging`),
command-line names (:mod:`.names`), one-line error messages (:mod:`._messages`)
and shared helpers (:mod:`._common`).

May import: every other layer, and tqdm (progress bars).
"""
