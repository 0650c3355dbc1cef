"""Predictive analytics: customer lifetime value, churn risk and key drivers."""

from core.predict.bgnbd import BetaGeoModel
from core.predict.churn import churn_analysis, churn_dates
from core.predict.clv import clv_analysis, discounted_clv
from core.predict.drivers import key_drivers
from core.predict.gammagamma import GammaGammaModel, frequency_spend_check
from core.predict.summary import btyd_summary

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "btyd_summary",
    "churn_analysis",
    "churn_dates",
    "clv_analysis",
    "discounted_clv",
    "frequency_spend_check",
    "key_drivers",
]
