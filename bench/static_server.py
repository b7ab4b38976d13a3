"""``python -m bench.static_server DIR PORT``: the baseline server of ``bench serving``.

The same server stack as the API (uvicorn on uvloop, one process, a Starlette app) serving a
directory with Starlette's ``StaticFiles`` and nothing else: no gate, no lookups.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles


def main() -> None:
    directory, port = sys.argv[1], int(sys.argv[2])
    app = Starlette(routes=[Mount("/static", StaticFiles(directory=directory))])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
