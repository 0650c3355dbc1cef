"""`loyalist predict demand` on a workspace (core/registry/catalog/predict.py declares the
options): the holiday calendar's custom days come from loyalist.toml's [[holidays]]."""

from __future__ import annotations

import datetime as dt

from core.result import Result


def demand(ws, *, measure: str = "revenue", freq: str = "week", by: str | None = None, horizon: int | None = None,
           confidence: float = 0.95, as_of: dt.date | None = None, since: dt.date | None = None,
           holidays: str = "both", yearly: bool = True, trend: bool = False, transform: str = "log",
           errors: str = "ar", backtest_origins: int = 4,
           top: int = 200) -> Result:
    from core.forecast.demand import demand_forecast

    custom = ws.options.get("holidays", [])
    where = str(ws.config_path) if ws.config_path else "loyalist.toml"
    return demand_forecast(ws.scan("transactions"), measure=measure, freq=freq, by=by or None, horizon=horizon,
                           confidence=confidence, as_of=as_of, since=since, holidays=holidays,
                           custom_holidays=custom, yearly=yearly, trend=trend, transform=transform,
                           errors=errors, backtest_origins=backtest_origins, top=top,
                           customers=ws.scan_if("customers") if by else None, config_file=where)
