"""Evaluation reports: each a function taking LazyFrames and returning one Result.

Each is declared in the registry (core/registry/catalog/report.py: the tables it needs and
uses, its options), so the CLI, recipes and the app run any report the same way,
`core.registry.run_analysis("report.nps", ws, options)`, and a missing table is named
before any work starts. Empty cells mean "does not apply" or "cannot be known", never 0.

Result names, headline figures and tables (columns) - the stable keys of `--format json`,
which puts headline figures and tables at the top level (see commands/report.py):

report.channels - headline: customers, purchase_channels, multi_channel_share,
  top_channel_by_revenue, multi_vs_single_{customers_retained,clv}_{diff,relative}
  channels: channel, customers, orders, revenue, aov, repeat_rate, touches, reached, reach,
    touches_per_customer, converted, conversion_rate, cost, attributed_revenue, roi,
    new_customers, cac, acquisition_roi
  single_vs_multi: metric (customers_retained, active, purchase_frequency, monetary_value,
    aov, clv, nps), single, multi, n_single, n_multi, diff, diff_ci_low, diff_ci_high,
    relative_diff, p_value
  overlap: channel, then one column per channel (customers who bought in both)
  radar: channel, reach, engagement, conversion, *_score (0-100, best = 100)
report.attribution - headline: conversions, total_value, journeys, unique_paths,
  conversion_probability, top_channel, purchases, purchases_without_touchpoints
  channels: channel, touches, journeys, first_touch, last_touch, linear, time_decay,
    position_based, markov (attributed conversions), removal_effect, markov_per_journey
  value: channel and the same models in value; paths: path, conversions, nulls, value,
    conversion_rate (top 100)
report.experiment - headline: experiments, units, significant, sample_ratio_mismatch, alpha
  comparisons: experiment, variant, baseline, rate, baseline_rate, diff, diff_ci_low,
    diff_ci_high, relative_lift, relative_lift_ci_low/high, z, p_value, p_value_holm,
    revenue_diff, revenue_diff_ci_low/high, revenue_p_value, revenue_p_value_holm,
    revenue_diff_unadjusted (with a covariate: revenue compared after CUPED), srm_p_value,
    significant and, with sequential, sequential_diff_ci_low/high, sequential_p_value(_holm),
    revenue_sequential_ci_low/high, revenue_sequential_p_value
  variants: experiment, variant, is_control, units, share, planned_share, conversions,
    rate, revenue, revenue_per_unit; srm: experiment, units, chi2, df, p_value, mismatch
report.experiment.plan - headline: baseline, target_rate, absolute_lift, relative_lift,
  alpha, power, ratio, effect_size_h, units_control, units_variant, units_total and, with
  units: units_given, power_at_units, mde_rate, mde_absolute, mde_relative
  sample_sizes: relative_lift, target_rate, units_control, units_variant
  power_curve: units_control, power
report.campaign - headline: campaigns_read, incremental_revenue, spend, best_roi_campaign
  campaigns: campaign_id, name, channel, start_date, end_date, spend, revenue_before,
    revenue_during, revenue_after, tagged_revenue, method (holdout, matched, pre-post),
    treated, comparison, revenue_per_treated, revenue_per_comparison, incremental_revenue,
    incremental_ci_low, incremental_ci_high, p_value, roi, new_members_before,
    new_members_during
  windows: campaign_id, window (before, during, after), start, end, revenue, orders,
    new_customers, new_members, days, revenue_per_day
report.program - headline: customers, members, participation_rate, matched_members,
  raw_spend_lift_relative, matched_spend_lift_relative, matched_spend_lift_relative_ci and,
  with a cost, program_cost, incremental_revenue_per_year, roi
  members_vs_non_members: metric (spend, purchase_frequency, aov, customers_retained,
    active, clv, nps), non_members, members, n_*, diff, diff_ci_low/high, relative_diff,
    p_value
  lift: outcome (spend, purchase_days), window_days, members_mean, non_members_mean,
    raw_lift, raw_relative_lift, matched_members_mean, matched_mean, matched_lift,
    matched_lift_ci_low/high, matched_relative_lift, p_value, n_members, n_controls
  balance: feature, treated_mean, control_mean, std_mean_diff, matched_mean,
    std_mean_diff_matched; tiers: tier, members, spend, purchase_frequency, active
report.nps - headline: responses, nps, nps_ci [low, high], promoters, passives, detractors
  (shares in %), csat, ces, csat_top2
  segments: dimension, group, responses, promoters, passives, detractors, nps, nps_ci_low,
    nps_ci_high, mean of every other score, small_sample; monthly: month and the same
  distribution: score (0-10), responses, share, category
  scores: score, responses, mean, sd, ci_low, ci_high, min, max, top2_share (csat)
report.cohorts - headline: cohort_count, customers, last_date, retention_{m|w}{1,3,6,12}
  customer_retention, revenue_retention: cohort, customers, m0, m1, ... (w0... by week)
  cohorts: cohort, period, customers, active, retention, revenue, revenue_retention
report.engagement - headline: contacts, channels, rows_without_touch_type, fatigue_threshold
  (messages in the window past which response falls; empty if it does not), fatigue_p_value,
  unsubscribe_rate (of delivered, in channels that log unsubscribes; empty if none do)
  funnel: channel [, the --by column], contacts, reach, sent, delivered, opened, clicked,
    converted, revenue, {delivery,open,click,click_to_open,conversion}_rate with _ci_low/_ci_high
    (Wilson), revenue_per_contact, unsubscribed, unsubscribe_rate with _ci_low/_ci_high, small_sample
  touch_types: channel, touch_type, contacts, customers
  fatigue: contacts_in_window, contacts, responded, unsubscribed, response_rate,
    response_rate_ci_low/high, unsubscribe_rate, unsubscribe_rate_ci_low/high, small_sample
report.ltv_cac - headline: customers, total_acquisition_cost, ltv_cac_ratio (all channels),
  ltv_cac_ratio_ci [low, high] (delta method), best_channel, margin, horizon_months
  channels: acquisition_channel [, the --by column], customers, buyers, customers_with_cost,
    cac, total_cost, ltv, payback_months (empty: not within the horizon), ltv_cac_ratio,
    ltv_ci_low/high, ltv_cac_ratio_ci_low/high
  payback: group, month, cumulative_margin (mean per acquired customer), cac
report.points - headline: customer_count, points_issued, points_redeemed, points_expired,
  points_adjusted_out, points_outstanding, liability, liability_after_breakage, burn_rate,
  breakage_rate, used_points_expired_share, redeemers, redemption_rate, point_value,
  median_days_to_first_redemption, points_per_unit_spent, spend_lift_after_redemption(_ci)
  by_month: month, issued, redeemed, expired, adjusted_out, net, earners, redeemers,
    closing_balance, burn_rate, breakage_rate, liability
  balances: band, customers, balance, customer_share
  by_tier / by_<--by>: the group, customers, issued, redeemed, expired, outstanding, redeemers,
    liability, burn_rate, breakage_rate, redemption_rate [, points_per_unit_spent]
  first_redemption: days (30, 90, 180, 365), redeemed_share (Kaplan-Meier), still_followed,
    median_days
  redeemers_vs_non_redeemers: outcome (spend, purchase_days), window_days, redeemers_mean,
    matched_mean, matched_lift, matched_lift_ci_low/high, matched_relative_lift, p_value,
    n_redeemers, n_controls; matching_balance: as the program report's balance
  customers (one row per customer): customer_id, issued, redeemed, expired, adjusted_out,
    balance, first_issued, first_redemption, redemptions [, tier, the --by column]
report.tiers - headline: customer_count, upgrades, downgrades, stays, new_to_tiers, upgrade_rate,
  downgrade_rate
  movement: from_tier ((none) = no tier yet), one column per tier on the as-of date, customers
  time_in_tier: tier, spells, spells_ended, median_days_in_tier (Kaplan-Meier),
    mean_days_of_ended_spells
  retention: tier, customers, retained, retention_rate, retention_rate_ci_low/high (Wilson)
  customers (one row per customer): customer_id, from_tier, to_tier, movement
report.kpi - headline: every KPI's current value
  kpis: level (brand, customer, sales), kpi, current, previous, change, change_pct, unit,
    definition
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.evaluate.attribution import attribution
    from core.evaluate.campaign import campaign
    from core.evaluate.channels import channels
    from core.evaluate.cohorts import cohorts
    from core.evaluate.experiment import experiment
    from core.evaluate.kpi import kpi
    from core.evaluate.nps import nps
    from core.evaluate.plan import plan
    from core.evaluate.program import program

__all__ = ["attribution", "campaign", "channels", "cohorts", "experiment", "kpi", "nps", "plan", "program"]


def __getattr__(name: str) -> Any:
    """Each report imported when first asked for (`from core.evaluate import nps`): running one
    report loads its own module (and scipy where it uses it), not every report's."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    function = getattr(importlib.import_module(f"core.evaluate.{name}"), name)
    globals()[name] = function  # in place of the submodule the import bound to the same name
    return function
