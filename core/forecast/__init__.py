"""Demand forecasts (`loyalist predict demand`): holiday calendar, model, backtest."""
