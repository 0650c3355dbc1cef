"""`loyalist predict clv|churn|drivers`: lifetime value, churn risk and key drivers.

The commands are made from the registry (core/registry/catalog/predict.py, run by
core/predict/run.py).

Output: `--format csv` prints the main table (clv: customers, one row per customer;
churn: at_risk; drivers: drivers) and `--output FILE` writes it (.csv/.tsv/.parquet/
.ndjson) or every table (.json/.xlsx/.html/.md). For clv, `table` and `json` leave the
per-customer table out (it can hold a million rows); churn's at-risk list is as long as
--top (default 100) and is shown everywhere.

JSON keys are stable: name, title, params, headline, tables, notes.
- clv: headline r, alpha, a, b (BG/NBD), p, q, gamma (Gamma-Gamma), log_likelihood
  (BG/NBD), gamma_gamma_log_likelihood, unit, customers, repeat_customers,
  frequency_spend_correlation, horizon, discount_rate, total_clv, mean_clv,
  mean_p_alive, expected_purchases_total, and with --holdout-end holdout_length,
  holdout_actual_total, holdout_predicted_total, holdout_total_error_pct, holdout_mae,
  holdout_rmse, holdout_correlation; tables.parameters (model, parameter, estimate, se,
  ci_lower, ci_upper) and tables.holdout (calibration_frequency 0..6 and 7+, customers,
  actual_mean, predicted_mean, actual_total, predicted_total).
- churn: headline model, the three dates (train_as_of, train_label_end, test_as_of,
  test_label_end, as_of), n_train, n_test, n_scored, test_auc, test_precision,
  test_recall, test_brier, test_base_rate (all of the chosen model only),
  validation_auc_logistic, validation_auc_boosting (with --model best), threshold,
  top_decile_lift, customers_flagged, value_at_risk_total; tables at_risk (rank,
  customer_id, churn_probability, recency_days, frequency, monetary, clv, value_at_risk,
  risk_factor_1..3), models (model, validation_auc, chosen), gains (by decile),
  calibration, risk_distribution (bin_start, customers: every scored customer per 5-point
  band of churn probability), test_predictions (customer_id, churn_probability, churned: the test window,
  written by --output, not printed). Without a CLV fit (too few
  repeat buyers) a note says there is no value at risk.
- drivers: headline outcome, method, n, r2, holdout_r2, cv_r2_mean, top_driver,
  top_share, summary; tables drivers (driver, correlation, beta and interval, share of
  explained variance and interval, permutation_importance, cross-validation spread,
  rank) and stability (fold, driver, share, rank).
"""

from __future__ import annotations

import typer

from commands.analysis import add_analysis_commands

app = typer.Typer(no_args_is_help=True)
add_analysis_commands(app, "predict")
