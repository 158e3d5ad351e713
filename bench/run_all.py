"""Run every storage benchmark at its full size on both databases (``make bench``).

Extra arguments go to each benchmark, e.g. ``python -m bench.run_all --runs 3``.
"""

from __future__ import annotations

import sys

from bench import history, inbox


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    history.main(args)
    inbox.main(args)


if __name__ == "__main__":
    main()
