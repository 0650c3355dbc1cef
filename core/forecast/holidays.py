"""The holiday calendar of demand forecasts: Chinese holidays and shopping festivals, Western
holidays, and the analyst's own days from loyalist.toml (`[[holidays]]`).

Each holiday is a window of `days` consecutive days starting on a date that a rule gives per
year. The forecast turns each window into a regressor (core.forecast.design); the demo
generator plants peaks on the same windows (core.demo.festivals).

Spring Festival follows the lunar calendar: its dates come from the table below (checked
against the `holidays` package's Chinese calendar in the tests) and exist for 2015-2035 only;
outside those years it is not in the calendar. Qingming, Dragon Boat and Mid-Autumn (also
lunar) are not built in: add them in loyalist.toml.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from core.config import ARRAYS
from core.errors import InputError

CALENDARS = ("both", "china", "western", "none")

# Lunar New Year's Day (正月初一), 2015-2035.
SPRING_FESTIVAL = {
    2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25),
    2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17),
    2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23), 2032: (2, 11),
    2033: (1, 31), 2034: (2, 19), 2035: (2, 8),
}


def easter(year: int) -> dt.date:
    """Western Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November (US Thanksgiving)."""
    first = dt.date(year, 11, 1)
    first_thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + dt.timedelta(days=22)


def _fixed(month: int, day: int) -> Callable[[int], dt.date | None]:
    return lambda year: dt.date(year, month, day)


def _spring_festival_eve(year: int) -> dt.date | None:
    md = SPRING_FESTIVAL.get(year)
    return dt.date(year, *md) - dt.timedelta(days=1) if md else None


@dataclass(frozen=True)
class Holiday:
    name: str
    region: str  # "china" | "western" | "custom"
    days: int  # length of the window
    first_day: Callable[[int], dt.date | None]  # the window's first day in a year (None: not that year)
    rule: str  # how the window is set, for the README and `help`
    dates: tuple[dt.date, ...] = ()  # first days given one by one (then first_day is not used)

    def windows(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Every day of this holiday's windows that falls in start..end."""
        firsts = self.dates or [self.first_day(year) for year in range(start.year - 1, end.year + 1)]
        out = []
        for first in firsts:
            if first is None:
                continue
            out += [d for d in (first + dt.timedelta(days=i) for i in range(self.days)) if start <= d <= end]
        return out


BUILT_IN: tuple[Holiday, ...] = (
    Holiday("spring_festival", "china", 7, _spring_festival_eve, "New Year's Eve (除夕) and the six days after"),
    Holiday("labour_day", "china", 5, _fixed(5, 1), "1-5 May"),
    Holiday("618", "china", 1, _fixed(6, 18), "18 June (JD's anniversary sale)"),
    Holiday("national_day", "china", 7, _fixed(10, 1), "1-7 October (Golden Week)"),
    Holiday("singles_day", "china", 1, _fixed(11, 11), "11 November (Double 11)"),
    Holiday("double_12", "china", 1, _fixed(12, 12), "12 December"),
    Holiday("new_year", "western", 1, _fixed(1, 1), "1 January"),
    Holiday("valentines_day", "western", 1, _fixed(2, 14), "14 February"),
    Holiday("easter", "western", 4, lambda y: easter(y) - dt.timedelta(days=2), "Good Friday to Easter Monday"),
    Holiday("black_friday", "western", 1, black_friday, "the day after the fourth Thursday of November"),
    Holiday("cyber_monday", "western", 1, lambda y: black_friday(y) + dt.timedelta(days=3),
            "the Monday after Black Friday"),
    Holiday("christmas", "western", 2, _fixed(12, 24), "24-25 December"),
)

# loyalist.toml's [[holidays]] keys are declared once, in core.config.ARRAYS.
HOLIDAY_KEYS = tuple(ARRAYS["holidays"])


def calendar(choice: str = "both", custom: Sequence[Mapping[str, Any]] = (), *,
             where: str = "loyalist.toml") -> tuple[Holiday, ...]:
    """The built-in holidays of `choice` plus the custom ones (a custom name replaces a built-in one)."""
    if choice not in CALENDARS:
        raise InputError(f"unknown holiday calendar {choice!r}", fix=f"use one of {', '.join(CALENDARS)}")
    own = [parse_holiday(entry, where, i) for i, entry in enumerate(custom)]
    names = {h.name for h in own}
    built = [h for h in BUILT_IN if choice in ("both", h.region) and h.name not in names]
    return (*built, *own)


def parse_holiday(entry: Mapping[str, Any], where: str, index: int) -> Holiday:
    """One [[holidays]] entry of loyalist.toml, checked; InputError names the key and the fix."""
    what = f"[[holidays]] number {index + 1}"
    if not isinstance(entry, Mapping):
        raise InputError(f"{what} must be a table", file=where,
                         fix='write [[holidays]] then name = "brand_day" and date = 2025-08-08 on their own lines')
    unknown = sorted(set(entry) - set(HOLIDAY_KEYS))
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r} in {what}", file=where,
                         fix=f"use only {', '.join(HOLIDAY_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise InputError(f"{what} needs a name of letters, digits and _ (got {name!r})", file=where,
                         fix='write name = "brand_day"')
    days = entry.get("days", 1)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60:
        raise InputError(f"days of holiday {name!r} must be a whole number from 1 to 60 (got {days!r})",
                         file=where, fix="write days = 3")
    if ("date" in entry) == ("month_day" in entry):
        raise InputError(f"holiday {name!r} needs either date or month_day (one of them)", file=where,
                         fix='write date = 2025-08-08 (or a list of dates), or month_day = "08-08" for every '
                                                   "year")
    if "date" in entry:
        raw = entry["date"] if isinstance(entry["date"], list) else [entry["date"]]
        if not raw or not all(isinstance(d, dt.date) and not isinstance(d, dt.datetime) for d in raw):
            raise InputError(f"date of holiday {name!r} must be a date or a list of dates, without quotes "
                             f"(got {entry['date']!r})", file=where, fix="write date = 2025-08-08 or "
                             "date = [2024-08-08, 2025-08-09]")
        return Holiday(name, "custom", days, lambda _: None, "dates from loyalist.toml", tuple(sorted(set(raw))))
    md = entry["month_day"]
    try:
        month, day = (int(p) for p in str(md).split("-"))
        dt.date(2024, month, day)  # a leap year, so 02-29 is allowed
    except ValueError:
        raise InputError(f"month_day of holiday {name!r} must be \"MM-DD\" (got {md!r})", file=where,
                         fix='write month_day = "08-08"') from None
    return Holiday(name, "custom", days, lambda y: _safe_date(y, month, day), f"{md} every year")


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:  # 29 February in a common year
        return None


def holiday_days(holidays: Sequence[Holiday], start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row per (holiday, day) inside start..end: columns holiday, date."""
    rows = [(h.name, d) for h in holidays for d in h.windows(start, end)]
    return pl.DataFrame(rows, schema={"holiday": pl.String, "date": pl.Date}, orient="row")
