"""``chinwag import-talkjs``: placeholder until the importer lands."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from chinwag.config import Config

AddOptions = Callable[[argparse.ArgumentParser, Sequence[str]], None]


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], add_options: AddOptions
) -> None:
    pass


def run(config: Config, args: argparse.Namespace) -> int:
    return 2
