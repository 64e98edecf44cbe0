"""Run many AWS CLI commands in one process: what the ``aws`` script runs, without paying its start-up each time.

The ``aws`` script is ``awscli.clidriver.main()``, i.e. ``create_clidriver().main(argv)``;
this runs exactly that once per command, with stdout and stderr captured as
bytes, in a process of its own (the AWS CLI sets up logging and colorama
globally). Reads a JSON list of argv lists on stdin, writes a JSON list of
``[exit code, stdout base64, stderr base64]``.

The one liberty taken: every session shares one botocore data loader, so the
EC2 model JSON is parsed once rather than once per command (most of a
command's time); the loader hands out the same data either way.
"""

from __future__ import annotations

import base64
import io
import json
import sys


def _share_the_loader() -> None:
    import botocore.loaders
    import botocore.session

    create = botocore.loaders.create_loader
    loaders: dict[object, object] = {}

    def shared(search_path_string: object = None) -> object:
        if search_path_string not in loaders:
            loaders[search_path_string] = create(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared  # type: ignore[assignment]


def _run(argv: list[str]) -> list[object]:
    from awscli.clidriver import create_clidriver

    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdout, sys.stderr
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    try:
        code = create_clidriver().main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
            stream.detach()  # keep the buffer open once the wrapper is gone
        sys.stdout, sys.stderr = saved
    return [code, base64.b64encode(out.getvalue()).decode(), base64.b64encode(err.getvalue()).decode()]


if __name__ == "__main__":
    _share_the_loader()
    json.dump([_run(argv) for argv in json.load(sys.stdin)], sys.stdout)
