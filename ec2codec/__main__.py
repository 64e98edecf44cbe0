"""``python -m ec2codec``: the command line (see :mod:`ec2codec.cli.app`)."""

from .cli.app import main

raise SystemExit(main())
