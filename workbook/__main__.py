"""The workbook's project commands: ``python -m workbook COMMAND``."""
import argparse
import sys

from . import ROOT


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m workbook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    diffs = commands.add_parser("diffs", help="rewrite each stage's CHANGES.diff")
    diffs.add_argument("--check", action="store_true", help="only report stale diffs (exit 1 if any)")
    release = commands.add_parser("release", help="make notebooks/ from solutions/")
    release.add_argument("--check", action="store_true", help="only report stale notebooks (exit 1 if any)")
    args = parser.parse_args(argv)

    if args.command == "diffs":
        from .diffs import write_diffs as run
    else:
        from .release import release as run
    stale = run(check=args.check)
    for path in stale:
        verb = "out of date" if args.check else "written"
        print(f"{path.relative_to(ROOT)}: {verb}")
    if not stale:
        print("Everything is up to date.")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
