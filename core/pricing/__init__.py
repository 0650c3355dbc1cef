"""Prices and promotions: own-price elasticity (report pricing) and promotion lift (report promotions)."""
