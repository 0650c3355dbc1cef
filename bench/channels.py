"""`python -m bench.channels`: CPU seconds and peak memory of `report channels` beside the
bare-Polars RFM floor (issue 14's target: within 3x, under 2 GB).

The same measurement as bench.heavy (a fresh `loyalist report channels` process writing
`--output`, the floor run first in the same run). Writes bench/results/channels.json.

  python -m bench.channels                # at 1M transactions
  python -m bench.channels --sizes 10m    # the target size (under the machine's bench lock)
"""

from __future__ import annotations

from bench.heavy import targeted_main


def main(argv: list[str] | None = None) -> None:
    targeted_main("channels", __doc__, ("report channels",), argv)


if __name__ == "__main__":
    main()
