"""`python -m bench.attrib`: CPU seconds and peak memory of attribution, program, kmeans, kpi,
campaign and nps beside the bare-Polars RFM floor (issue 14's target: within 3x, under 2 GB).

The same measurement as bench.heavy (each analysis a fresh `loyalist ...` process writing
`--output`, the floor run first in the same run), for the analyses helper "attrib" changed.
Writes bench/results/attrib.json.

  python -m bench.attrib                # at 1M transactions
  python -m bench.attrib --sizes 10m    # the target size (about a minute of CPU each)
"""

from __future__ import annotations

from bench.heavy import targeted_main

ANALYSES = ("report attribution", "report program", "segment kmeans", "report kpi", "report campaign",
            "report nps")


def main(argv: list[str] | None = None) -> None:
    targeted_main("attrib", __doc__, ANALYSES, argv)


if __name__ == "__main__":
    main()
