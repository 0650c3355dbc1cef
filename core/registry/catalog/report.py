"""`loyalist report ...`: the evaluation reports of core.evaluate, each a function of LazyFrames."""

from __future__ import annotations

from core.registry.catalog import AS_OF, CONFIDENCE, DISCOUNT_RATE, ENGINE, SINCE
from core.registry.model import Analysis, Group, When, register, register_group
from core.registry.options import BOOL, CHOICE, DATE, FLOAT, INT, LIST, PAIRS, TABLE, TEXT, Option

register_group(Group("report", "Reports", "Evaluation reports: channels, attribution, experiments, campaigns, "
                     "loyalty program, NPS, cohorts and a KPI overview.", screen="reports"))

RETENTION_DAYS = Option("retention_days", INT, 365, low=1,
                        help="A customer counts as retained with a purchase within this many days")
MAX_CONTROLS = Option("max_controls", INT, 5000, low=100,
                      help="Comparison customers drawn at most (matching is quadratic)")


def report(name: str, title: str, description: str, *, details: str = "", **fields) -> None:
    register(Analysis(f"report.{name}", title, description, run=f"core.evaluate.{name}:{name}", takes="tables",
                      noun=f"{name} report", details=details, **fields))


report(
    "channels", "Channels", "Per channel customers, orders, revenue, AOV, repeat and conversion rates, CAC and ROI; "
    "single- against multi-channel customers; channel overlap; reach, engagement and conversion",
    details="Needs transactions (with channel).",
    uses=("customers", "touchpoints", "survey", "campaigns"),
    options=(
        AS_OF,
        Option("window_days", INT, 30, low=1, flags=("--window",),
               help="Days after a touch in which a purchase counts as its conversion"),
        CONFIDENCE, RETENTION_DAYS, DISCOUNT_RATE, ENGINE,
    ),
)
report(
    "attribution", "Attribution", "Conversions and value credited to channels by first touch, last touch, linear, "
    "time decay, position based (40/20/40) and Markov chain (removal effects, solved exactly)",
    details="Needs touchpoints and transactions, or a paths file.",
    needs=("touchpoints", "transactions"), when=(When("paths", drops=("touchpoints", "transactions")),),
    options=(
        Option("paths", TABLE, flags=("--paths",), sample='"paths.csv"', title="Paths file",
               help="Aggregated paths instead of touchpoints: columns path ('a > b'), conversions, optional "
               "nulls, value"),
        Option("lookback_days", INT, 30, low=1, flags=("--lookback",),
               help="Days before a purchase whose touchpoints are on its path"),
        Option("half_life_days", FLOAT, 7.0, low=0.01, flags=("--half-life",),
               help="Time decay: days for a touch's weight to halve"),
        Option("markov_order", INT, 1, low=1, high=4, flags=("--order",),
               help="Markov chain order (touches remembered)"),
        AS_OF,
    ),
)
report(
    "experiment", "Experiments", "A/B tests: per variant units, conversions, rate and revenue per unit; each "
    "variant against the control with intervals, z-test, Welch t-test, Holm correction and a sample-ratio check",
    details="Needs experiments; uses transactions (outcomes after exposure) and campaigns (to leave campaign "
    "holdouts to the campaign report).",
    needs=("experiments",), uses=("transactions", "campaigns"),
    options=(
        Option("experiment", TEXT, flags=("--experiment", "-e"), help="Experiment to read; empty: all of them"),
        Option("control", TEXT, help="The control variant; empty: control, A, A1 or holdout, else the first"),
        Option("split", PAIRS, title="Planned split", help="Planned shares for the sample-ratio check, e.g. "
               "control=50,treatment=50; empty: equal"),
        Option("interval", CHOICE, "newcombe", choices=("newcombe", "wald", "agresti-caffo"),
               help="Interval of the conversion-rate difference (Wald is too narrow with few conversions)"),
        Option("window_days", INT, 30, low=1, flags=("--window",),
               help="Days after exposure in which purchases count, when outcomes come from transactions"),
        Option("covariate", TEXT, help="Pre-period covariate for CUPED on revenue: a numeric experiments column, "
               "or pre_revenue (spend in the window before exposure); empty: no adjustment"),
        Option("sequential", BOOL, False, help="Also anytime-valid p-values and intervals, which stay valid "
               "however often the experiment is read before it ends (significant follows them)"),
        CONFIDENCE, AS_OF,
    ),
)
register(Analysis(
    "report.experiment.plan", "Experiment plan", "Plan an experiment: units needed, power and the minimum "
    "detectable effect (no workspace needed)", run="core.evaluate.plan:plan_experiment", takes="nothing",
    needs=(), command="", noun="experiment plan",
    options=(
        Option("baseline", FLOAT, required=True, help="The control's conversion rate, e.g. 0.05"),
        Option("lift", FLOAT, required=True, help="Lift to detect, relative (0.1 = +10%)"),
        Option("absolute", BOOL, False, help="The lift is in rate points (0.01 = +1 point)"),
        Option("alpha", FLOAT, 0.05, help="Significance level (two-sided)"),
        Option("power", FLOAT, 0.8, help="Chance of detecting the lift"),
        Option("ratio", FLOAT, 1.0, help="Variant units per control unit"),
        Option("units", INT, help="Control units you can get (gives power and the minimum detectable effect)"),
    ),
))
report(
    "campaign", "Campaigns", "Revenue and orders before, during and after each campaign; incremental revenue "
    "against the holdout (or matched untouched customers), ROI against spend, new members",
    details="Needs campaigns and transactions; uses experiments, touchpoints and customers.",
    needs=("campaigns", "transactions"), uses=("experiments", "touchpoints", "customers"),
    options=(
        Option("campaign_id", TEXT, flags=("--campaign", "-c"), title="Campaign",
               help="One campaign_id; empty: every campaign"),
        AS_OF, MAX_CONTROLS, CONFIDENCE,
    ),
)
report(
    "program", "Loyalty program", "Loyalty-program members against non-members: participation, spend, frequency, "
    "retention, CLV; lift raw and after matching on behaviour before joining; ROI with a cost",
    details="Needs transactions and customers (is_member, member_since); uses survey.",
    needs=("transactions", "customers"), uses=("survey",),
    options=(
        Option("program_cost", FLOAT, low=0, flags=("--cost",), help="Yearly program cost, for the ROI; empty: no ROI"),
        Option("post_days", INT, 60, low=7, help="Days after joining in which spend is compared"),
        Option("pre_days", INT, 365, low=30, help="Days before joining whose behaviour members are matched on"),
        Option("comparison", CHOICE, "future_members", choices=("future_members", "non_members"),
               help="Who members are matched with"),
        AS_OF, MAX_CONTROLS, RETENTION_DAYS, DISCOUNT_RATE, CONFIDENCE,
    ),
)
report(
    "nps", "NPS & CSAT", "NPS with its interval, promoters, passives and detractors, CSAT and other scores, by "
    "segment, channel and month",
    details="Needs survey (nps); uses customers and transactions for the breakdowns.",
    needs=("survey",), uses=("customers", "transactions"),
    options=(
        Option("by", LIST, title="Break down by", sample='["region", "month"]', help="Survey or customer columns, 'channel' or 'month', "
               "comma-separated; empty: the segment-like columns present"),
        Option("method", CHOICE, "wald", choices=("wald", "adjusted-wald"), help="NPS interval method"),
        Option("min_responses", INT, 30, low=1, help="Groups with fewer answers are flagged small_sample"),
        SINCE, AS_OF, CONFIDENCE,
    ),
)
report(
    "cohorts", "Cohorts", "Acquisition cohorts by period since first purchase: customer and revenue retention",
    options=(
        Option("period", CHOICE, "month", choices=("month", "week"), help="Cohort and period length"),
        Option("max_periods", INT, low=1, flags=("--periods",),
               help="Show at most this many periods after the first; empty: all"),
        SINCE, AS_OF, ENGINE,
    ),
)
report(
    "kpi", "KPI overview", "Brand, customer and sales KPIs for a period against the period before: customers, "
    "CAC, CLV, retention, churn, AOV, revenue, growth",
    details="The period is from .. as of, or the last `days` days. Needs transactions; uses customers, "
    "touchpoints and survey.",
    uses=("customers", "touchpoints", "survey"),
    options=(
        Option("start", DATE, flags=("--from",), title="From", help="First day of the period; empty: the last "
               "`days` days"),
        Option("end", DATE, flags=("--as-of",), title="To (as of)",
               help="Last day of the period (inclusive); empty: the last transaction date"),
        Option("days", INT, 30, low=1, help="Period length when the start (--from) is not given"),
        DISCOUNT_RATE,
    ),
)
report(
    "engagement", "Engagement", "Message funnel per channel (and segment): reach, sent, delivered, open, click-"
    "through, click-to-open and conversion rates with Wilson intervals, revenue per contact; contact fatigue: "
    "response by messages received in the window, and the number past which it falls",
    details="Needs touchpoints (channel, touch_type: the furthest stage of each contact); uses transactions "
    "(conversion, revenue) and customers (--by).",
    needs=("touchpoints",), uses=("transactions", "customers"),
    options=(
        Option("by", TEXT, title="Break down by", help="A customers column (tier, region, ...) splitting each "
               "channel's funnel; empty: channels only"),
        Option("window_days", INT, 30, low=1, help="Fatigue: messages counted in this many days up to each one"),
        Option("convert_days", INT, 7, low=0, help="Days after a contact in which a purchase counts as its "
               "conversion"),
        AS_OF, CONFIDENCE,
    ),
)
report(
    "ltv_cac", "LTV:CAC", "Per acquisition channel (and segment): customers, CAC, lifetime margin (observed, then "
    "the CLV model's expectation), LTV:CAC and the months until cumulative margin covers CAC",
    details="Needs transactions and customers (acquisition_channel, acquisition_cost).",
    needs=("transactions", "customers"), command="ltv-cac",
    options=(
        Option("margin", FLOAT, 0.3, low=0.001, high=1.0, help="Gross margin as a share of net revenue"),
        Option("horizon_months", INT, 36, low=1, high=240, flags=("--horizon",),
               help="Months after the first purchase that LTV covers"),
        Option("by", TEXT, title="Break down by", help="A customers column (tier, region, ...) splitting each "
               "channel; empty: channels only"),
        AS_OF, CONFIDENCE,
    ),
)
report(
    "points", "Points", "Points ledger: outstanding balance and its liability, earn, burn and breakage rates, "
    "redemption rate, time to first redemption, balances, by tier, segment and month; redeemers against "
    "matched customers who had not redeemed, for spend after redemption",
    details="Needs points (customer_id, date, points, kind); uses transactions (points per unit spent, the "
    "comparison) and customers (--by).",
    needs=("points",), uses=("transactions", "customers"), per_customer=("customers",),
    options=(
        Option("point_value", FLOAT, 0.01, low=0.0, help="Money one point is worth: the liability per point"),
        Option("by", TEXT, title="Break down by", help="A customers column (region, ...) or 'segment' (RFM "
               "segments from transactions); tiers come from the ledger's tier column"),
        Option("post_days", INT, 90, low=7, help="Days after the first redemption in which spend is compared"),
        Option("pre_days", INT, 365, low=30, help="Days before whose behaviour redeemers are matched on"),
        AS_OF, MAX_CONTROLS, CONFIDENCE,
    ),
)
report(
    "tiers", "Tiers over time", "Tier movement between two dates (upgrades, downgrades, stays), time in tier "
    "(Kaplan-Meier) and retention by tier, from the points ledger's tier column",
    details="Needs points (with tier); uses transactions (a purchase counts as retained).",
    needs=("points",), uses=("transactions",), per_customer=("customers",),
    options=(
        Option("start", DATE, flags=("--from",), title="From", help="The first date of the comparison; empty: a "
               "year before the as-of date"),
        AS_OF,
        Option("order", LIST, title="Tier order", sample='["bronze", "silver", "gold"]',
               help="Tiers lowest first, comma-separated; empty: a known ladder (bronze, silver, gold, ...)"),
        CONFIDENCE,
    ),
)
register(Analysis(
    "report.promotions", "Promotions", "Per promotion (promo_id, or campaign without one): sales, orders, units, "
    "new customers and members against a seasonal baseline fitted on the whole history (trend, weekday, month, "
    "holidays; beside it the weeks before, and the same weeks last year), with intervals; the dip after "
    "(pull-forward), discount depth and ROI on margin",
    run="core.pricing.promotions:promotions", takes="tables", noun="promotions report",
    details="Needs transactions (promo_id, or a campaigns table with start_date and end_date); uses customers "
    "(member_since) and campaigns. Days in two promotions are attributed to neither.",
    uses=("customers", "campaigns"),
    options=(
        Option("pre_weeks", INT, 8, low=3, high=104, help="Weeks before each promotion the second (pre-period) "
               "baseline is fitted on"),
        Option("post_days", INT, 14, low=1, high=180, help="Days after each promotion in which the dip is measured"),
        Option("margin", FLOAT, low=0.001, high=1.0, help="Gross margin as a share of revenue, for ROI; empty: no ROI"),
        AS_OF, CONFIDENCE,
    ),
))
register(Analysis(
    "report.pricing", "Pricing", "Own-price elasticity per category and product (Poisson PML, product and period "
    "fixed effects, robust intervals), the revenue-maximising price change inside the observed range, price "
    "bands and price-point sensitivity by segment",
    run="core.pricing.elasticity:pricing", takes="tables", noun="pricing report",
    details="Needs transactions (product_id, quantity; category); uses customers (--by). Returns and zero "
    "quantities are left out and counted; promotion lines too unless --include-promotions.",
    uses=("customers",),
    options=(
        Option("period", CHOICE, "week", choices=("week", "month"), help="Period of the product panel"),
        Option("min_periods", INT, 8, low=2, help="Products sold in fewer periods are left out"),
        Option("by", TEXT, title="Segment by", help="A customers column (tier, region, ...) for price-point "
               "sensitivity; empty: all customers"),
        Option("errors", CHOICE, "cluster", choices=("cluster", "hc1"),
               help="Standard errors: clustered by product, or heteroscedasticity-robust HC1"),
        Option("estimator", CHOICE, "ppml", choices=("ppml", "loglog"),
               help="ppml: Poisson pseudo-maximum likelihood, keeps zero-unit periods; loglog: OLS of log units"),
        Option("include_promotions", BOOL, False, help="Keep promotion lines (promo_id) in the panel"),
        SINCE, AS_OF, CONFIDENCE,
    ),
))
