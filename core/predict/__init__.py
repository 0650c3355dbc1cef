"""Predictive analytics: customer lifetime value, churn risk and key drivers.

The names below are imported on first use (PEP 562), not with the package: `predict churn`
imports core.predict.run and core.predict.churn first, and loads scipy, scikit-learn and the
CLV models on a thread beside its feature read (core.predict.churn.import_beside)."""

import importlib

_HOMES = {
    "BetaGeoModel": "core.predict.bgnbd",
    "GammaGammaModel": "core.predict.gammagamma",
    "btyd_summary": "core.predict.summary",
    "churn_analysis": "core.predict.churn",
    "churn_dates": "core.predict.churn",
    "clv_analysis": "core.predict.clv",
    "discounted_clv": "core.predict.clv",
    "frequency_spend_check": "core.predict.gammagamma",
    "key_drivers": "core.predict.drivers",
}

__all__ = ["BetaGeoModel", "GammaGammaModel", "btyd_summary", "churn_analysis", "churn_dates", "clv_analysis",
           "discounted_clv", "frequency_spend_check", "key_drivers"]


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
