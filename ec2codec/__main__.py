"""``python -m ec2codec``: the command line (see :mod:`ec2codec.cli`)."""

from .cli import main

raise SystemExit(main())
