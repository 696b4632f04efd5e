"""The ``ptm`` command line.

``ptm demo`` (the default) runs the main job on built-in data; later
subcommands (``ptm word2vec``, ``ptm bert``, ``ptm gpt``) train and use models.
"""

from __future__ import annotations

import argparse
import sys

import ptm_fast


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ptm", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ptm_fast {ptm_fast.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="run the main job on built-in data (default)")
    count = commands.add_parser("count-words", help="count the words of a text file")
    count.add_argument("path", help="a UTF-8 text file, whitespace-separated words")
    count.add_argument("--top", type=int, default=20, help="how many words to print (default 20)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in (None, "demo"):
        from ptm_fast import demo

        return demo.run()
    if args.command == "count-words":
        try:
            counts = ptm_fast.count_words_in_file(args.path)
        except (OSError, ValueError) as err:
            print(f"ptm count-words: {err}", file=sys.stderr)
            return 1
        for word, n in counts[: args.top]:
            print(f"{n}\t{word}")
        return 0
    raise AssertionError(f"unhandled command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
