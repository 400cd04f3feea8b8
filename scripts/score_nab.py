"""Score the spike detector and the mean+3-sigma baseline on the NAB Twitter volume windows."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from analytics import evaluation  # noqa: E402 - needs the repo root on sys.path first

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "nab"
METHODS = ("ewz", "mean3sigma")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder with Twitter_volume_*.csv and windows.json",
    )
    parser.add_argument("--json-only", action="store_true", help="print only the JSON lines")
    args = parser.parse_args(argv)
    scores = [score for method in METHODS for score in evaluation.score_dataset(args.data_dir, method=method)]
    if not args.json_only:
        print(evaluation.format_table(scores))
        print()
    for score in scores:
        print(json.dumps(score.as_dict()))


if __name__ == "__main__":
    main()
