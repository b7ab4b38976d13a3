"""``python -m infra.stack up|down|status|env``: the developer's one command for services.

Exit codes: 0 on success; 1 when a service failed (the message names it and quotes its log);
for ``status``, 1 when any service does not answer.
"""

from __future__ import annotations

import argparse
import logging
import sys

from infra.stack.api import down, ensure_up, status
from infra.stack.config import StackConfig
from infra.stack.errors import StackError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.stack", description=__doc__)
    parser.add_argument(
        "command",
        choices=["up", "down", "status", "env"],
        help="up: start what does not answer; down: stop what we started; "
        "status: one line per service; env: export lines for the resolved addresses",
    )
    args = parser.parse_args(argv)
    # aiokafka logs an ERROR for each refused connection while the broker boots: noise here.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        config = StackConfig.from_env()
        if args.command == "up":
            ensure_up(config)
        elif args.command == "down":
            down(config)
        elif args.command == "status":
            lines = status(config)
            for line in lines:
                print(line.line())
            return 0 if all(line.answering for line in lines) else 1
        else:
            print("\n".join(config.env_lines()))
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
