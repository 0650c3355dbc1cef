"""What every figure and column name the app and the exports show means: one place.

`explain(name)` gives the entry for a whole name ("t_days", "g6", "split_half_sb") or,
failing that, the entries of the technical words in it ("mean_ipt_days" -> ipt); a name
made only of plain English words needs none. `unexplained(name)` lists the words that are
neither (a test runs every analysis on the sample and asserts it is empty for every
column and figure it shows). Names are matched case-insensitively in their snake_case or
heading form ("Mean ipt days", "mean_ipt_days").
"""

from __future__ import annotations

import re

# Whole names whose meaning is more than the sum of their words.
NAMES: dict[str, str] = {
    "t": "T: days from the customer's first purchase to the as-of date (the customer's age in the "
         "BG/NBD model).",
    "t_days": "T days: days from the customer's first purchase to the as-of date.",
    "recency": "Recency: days from the last purchase to the as-of date (0: bought on that day); in the "
               "BG/NBD model, days from the first to the last repeat purchase.",
    "recency_days": "Recency days: days from the last purchase to the as-of date (0: bought on that day).",
    "mean_ipt_days": "Mean ipt days: the mean inter-purchase time, days between consecutive purchases.",
    "interval_coverage": "Interval coverage: the share of the backtest's held-out actuals that fell inside "
                         "the model's prediction interval; compare it with the nominal level.",
    "interval_nominal": "Interval nominal: the level the prediction intervals were asked for (e.g. 95%).",
    "interval_width_ratio": "Interval width ratio: the prediction intervals' mean width over the narrowest band "
                            "around the backtest's forecasts that would have held the nominal share of its "
                            "actuals (about 1: as wide as the errors needed; 2 or more: too wide).",
    "covered": "Covered: held-out actuals that fell inside their prediction interval.",
    "lead": "Lead: how many periods ahead of the forecast origin (1: the next period).",
    "estimator": "Estimator: the method that estimated the elasticities (ppml: Poisson pseudo-maximum "
                 "likelihood, which keeps periods with no sales; loglog: least squares on logs, which drops them).",
    "alpha": "Alpha: Cronbach's alpha, how consistently the items measure one thing (0-1; 0.7 and above is "
             "usually enough).",
    "alpha_ci": "Alpha CI: the confidence interval of alpha (Feldt's method unless bootstrap is chosen).",
    "std_alpha": "Std alpha: standardised alpha, alpha computed from the items' correlations instead of "
                 "their covariances (as if every item had the same spread).",
    "g6": "G6: Guttman's lambda 6, a reliability figure from how well each item is predicted by the others.",
    "omega_total": "Omega total: McDonald's omega, reliability from a one-factor model of the items.",
    "split_half_sb": "Split half sb: the correlation of two halves of the items, stepped up to the full "
                     "length with the Spearman-Brown formula.",
    "min_spearman": "Min spearman: the lowest Spearman rank correlation between the score and each item.",
    "feldt": "Feldt: Feldt's method for the confidence interval of alpha (from the F distribution).",
    "alpha_if_deleted": "Alpha if deleted: alpha of the scale without this item (higher than alpha: the "
                        "item weakens the scale).",
    "r_drop": "R drop: the item-rest correlation, the item against the sum of the other items (negative: "
              "the item probably needs reversing).",
    "engagement": "Engagement: how much a customer interacts with the brand apart from buying (touches, "
                  "opens, clicks), the second axis of the loyalty quadrants.",
    "engagement_score": "Engagement score: the customer's engagement on a common scale (see Engagement).",
    "p_alive": "P alive: the BG/NBD model's probability that the customer is still active.",
    "top2": "Top2: top-two-box share, the share answering in the two highest categories.",
    "srm_p_value": "SRM p value: the chi-square test of a sample ratio mismatch (variants not split as "
                   "planned); a small value means the assignment is suspect.",
    "kmo": "KMO: the Kaiser-Meyer-Olkin measure of sampling adequacy for factor analysis (0.6 and above "
           "is usually enough).",
    "a": "A: Attractive (Kano) - delights when present, not missed when absent.",
    "o": "O: One-dimensional (Kano) - the more, the better.",
    "m": "M: Must-be (Kano) - expected; its absence dissatisfies.",
    "i": "I: Indifferent (Kano) - makes no difference either way.",
    "r": "R: Reverse (Kano) - customers prefer it absent; as a statistic, a correlation.",
    "q": "Q: Questionable (Kano) - contradictory answers to the two questions.",
    "b": "B: the second group of a comparison.",
    "k": "K: the number of items of a scale or of clusters.",
    "z": "Z: the test statistic in standard errors (|z| above 1.96 is significant at 5%).",
}

# Technical words and abbreviations, explained wherever they appear in a name.
TERMS: dict[str, str] = {
    "ci": "CI: confidence interval, the range that holds the true value with the stated confidence.",
    "p": "p: the p-value, the chance of a difference this large if there were none.",
    "n": "n: the number of customers (or answers) behind the figure.",
    "sd": "sd: standard deviation.", "se": "se: standard error of the estimate.",
    "std": "std: standardised (on a common scale).",
    "cv": "cv: cross-validated, measured on held-out folds, not on the data the model learnt from.",
    "r2": "R2: the share of the variation the model explains (1 is perfect).",
    "auc": "AUC: area under the ROC curve, how well a score ranks churners above others (0.5 is chance).",
    "brier": "Brier: the mean squared error of predicted probabilities (lower is better).",
    "ndcg": "NDCG: normalised discounted cumulative gain, how high the relevant items are ranked (1 is ideal).",
    "clv": "CLV: customer lifetime value, the expected future spend of a customer.",
    "ltv": "LTV: lifetime value of a customer.", "cac": "CAC: customer acquisition cost.",
    "aov": "AOV: average order value.", "roi": "ROI: return on investment, (revenue - cost) / cost.",
    "nps": "NPS: Net Promoter Score, promoters (9-10) minus detractors (0-6) in percent points of answers.",
    "csat": "CSAT: customer satisfaction score (1-5).", "ces": "CES: customer effort score.",
    "kpi": "KPI: key performance indicator.",
    "rfm": "RFM: recency, frequency and monetary value.", "ipt": "ipt: inter-purchase time.",
    "srm": "SRM: sample ratio mismatch.", "holm": "Holm: p-values adjusted for several tests (Holm's method).",
    "chi2": "chi2: the chi-square test statistic.", "df": "df: degrees of freedom.",
    "markov": "Markov: attribution by removal effect in a Markov chain of customer journeys.",
    "silhouette": "Silhouette: how well customers sit in their own cluster rather than the nearest other "
                  "(-1 to 1; higher is better).",
    "lift": "Lift: how much more likely than baseline (rules: confidence / support of the consequent; "
            "experiments: treated vs control).",
    "uplift": "Uplift: the difference the treatment makes against the control group.",
    "incremental": "Incremental: caused by the campaign or treatment, beyond what the control group did.",
    "attributed": "Attributed: credited to a channel by the attribution model.",
    "support": "Support: the share of baskets holding the items.",
    "confidence": "Confidence: the share of baskets with the antecedent that also hold the consequent.",
    "conviction": "Conviction: how much more often the rule would be wrong if the items were independent.",
    "leverage": "Leverage: the share of baskets with both items beyond what independence predicts.",
    "antecedent": "Antecedent: the 'if' items of a rule.", "consequent": "Consequent: the 'then' items of a rule.",
    "itemset": "Itemset: a set of products bought together.", "itemsets": "Itemsets: sets of products bought together.",
    "alpha": "Alpha: Cronbach's alpha (scale reliability, 0-1).",
    "omega": "Omega: McDonald's omega (scale reliability).",
    "spearman": "Spearman: rank correlation.",
    "gamma": "Gamma: the Gamma-Gamma spend model.", "beta": "Beta: a model coefficient.",
    "decile": "Decile: one tenth of the customers ranked by the score.",
    "holdout": "Holdout: customers kept out of fitting, used only to check the model.",
    "cohort": "Cohort: customers who first bought in the same period.",
    "promoters": "Promoters: NPS answers 9-10.", "passives": "Passives: NPS answers 7-8.",
    "detractors": "Detractors: NPS answers 0-6.", "passive": "Passive: NPS answer 7-8.",
    "churn": "Churn: a customer who has stopped buying (no purchase within the churn window).",
    "churned": "Churned: stopped buying (no purchase within the churn window).",
    "churners": "Churners: customers who stopped buying.",
    "tenure": "Tenure: days since the customer's first purchase or signup.",
    "frequency": "Frequency: number of purchases (in BG/NBD: repeat purchases).",
    "monetary": "Monetary: the customer's spend (mean order value in Gamma-Gamma).",
    "recency": "Recency: days since the last purchase.",
    "novelty": "Novelty: how unpopular the recommended products are (higher: less obvious).",
    "coverage": "Coverage: the share of products or customers a method reaches.",
    # churn's test figures and the recommenders' evaluation share these two words
    "precision": "Precision: of the customers a model flagged (churn), or the items recommended, the share "
                 "that proved right (churned; bought).",
    "recall": "Recall: of the customers who churned, or the items bought, the share the model flagged or "
              "recommended.",
    "hit": "Hit: at least one recommended item was bought.", "hits": "Hits: recommended items bought.",
    "permutation": "Permutation: importance measured by shuffling a driver and seeing the fit fall.",
    "boosting": "Boosting: gradient-boosted trees.", "logistic": "Logistic: logistic regression.",
    "payback": "Payback: months until a customer's margin repays the acquisition cost.",
    "fatigue": "Fatigue: response falling as customers get more contacts.",
    "mismatch": "Mismatch: the split of variants differs from the plan.",
    "engagement": "Engagement: interactions with the brand apart from buying.",
    "quadrant": "Quadrant: behavioural loyalty quadrant (purchase frequency against engagement).",
    "kano": "Kano: the Kano model of feature categories (attractive, one-dimensional, must-be...).",
    "z": "z: the test statistic in standard errors.", "t": "T: days from the first purchase to the as-of date.",
    "r": "r: a correlation.", "q": "q: a quantile.", "k": "k: the number of items or clusters.",
    "kmo": "KMO: Kaiser-Meyer-Olkin sampling adequacy.",
    "bartlett": "Bartlett: Bartlett's test that the items are correlated at all.",
    "efa": "EFA: exploratory factor analysis.", "ap": "AP: average precision.",
    "mae": "MAE: mean absolute error.", "rmse": "RMSE: root mean squared error.",
    "g6": "G6: Guttman's lambda 6.", "sb": "sb: Spearman-Brown stepped-up correlation.",
    "feldt": "Feldt: Feldt's interval for alpha.", "ipw": "IPW: inverse probability weighting.",
    "ols": "OLS: ordinary least squares.",
    "communality": "Communality: the share of an item's variance the factors explain.",
    "uniqueness": "Uniqueness: the share of an item's variance the factors leave unexplained (1 - communality).",
    "eigenvalue": "Eigenvalue: the variance a factor explains, in items' worth (above 1: worth keeping).",
    "loadings": "Loadings: how strongly each item goes with a factor.",
    "ss": "SS: sum of squares.", "cor": "cor: correlation.",
    "rotation": "Rotation: how the factors are turned to be easier to read (varimax, oblimin, promax).",
    "top2": "Top2: top-two-box, the share answering in the two highest categories.",
    # points, tiers and alerts
    "outstanding": "Outstanding: points earned and not yet redeemed or expired (positive balances).",
    "liability": "Liability: what the outstanding points would cost if redeemed, at the point value.",
    "breakage": "Breakage: points that expire unused, as a share of the points issued.",
    "burn": "Burn: points redeemed as a share of the points issued.",
    "issued": "Issued: points given (earned plus bonuses and positive adjustments).",
    "redemption": "Redemption: a customer trading points for a reward.",
    "spells": "Spells: unbroken stretches a customer spent in one tier.",
    "alert": "Alert: a rule from loyalist.toml's [[alerts]] that fires when its figure changes enough.",
    # prices and promotions
    "elasticity": "Elasticity: the % change in units for a 1% change in price (below -1: demand is elastic, "
                  "a cut raises revenue).",
    "elastic": "Elastic: demand that moves more than the price does (elasticity below -1).",
    "identified": "Identified: the data hold price changes that are not driven by demand, so the elasticity "
                  "can be estimated.",
    "dispersion": "Dispersion: how much the unit price of one product varies within a period (a mix of "
                  "price points).",
    "markdown": "Markdown: a price cut below the product's typical price.",
    "band": "Band: a price band, products grouped by quartile of their price.",
    "dip": "Dip: sales below the baseline in the days after a promotion.",
    "pull": "Pull forward: sales a promotion moved earlier from the days after it (dip / lift).",
    "depth": "Depth: the discount as a share of the regular price.",
    "overlap": "Overlap: days in more than one promotion, attributed to none.",
    # forecasts
    "forecast": "Forecast: the model's expected value for a future period, with a prediction interval.",
    "naive": "Naive: the seasonal-naive forecast (the same period a season earlier), the baseline a model "
             "must beat.",
    "mape": "MAPE: mean absolute percentage error of the forecasts in the backtest.",
    "smape": "sMAPE: symmetric mean absolute percentage error (bounded when actuals are near 0).",
    "mase": "MASE: mean absolute error scaled by the seasonal-naive error in the training data (below 1: "
            "better than naive).",
    "origins": "Origins: the rolling-origin backtest's forecast starting points.",
    # comments, engines
    "odds": "Odds ratio: how much more often detractors mention a term than promoters (1: equally often).",
    "topic": "Topic: a group of words that occur together in comments (NMF).",
    "engine": "Engine: where the per-customer reduction runs (Polars, DuckDB, PostgreSQL or Spark).",
}

# Everyday words that need no entry (headings read as plain English).
PLAIN = frozenset("""
a above absent acquisition active after agreement algorithm alive all amount and answered answers app
as asked at attachment audience average axis b base based baseline basket baskets because before best
better between bin both bought buyers by campaign campaigns catalogue category change channel channels
chasers choice chosen class click clicked code column columns comment comments comparison contact
contacts control controls conversion conversions converted correlation cost count coverage current
cumulative customer customers data date day days decay definition delimiter delivered delivery
description detail difference diff dimension direction discount driver drivers dtype during effect
encoding end errors estimate example expected experiment experiments extra f factor feature features
file first fix flag flagged fold format found frequent from gain gross group growth header high
horizon id importance in index is item items journey journeys label language lapsed largest last level
likelihood linear log loy loyal low lower m map mapped margin max mean median member members message
method metric min missing model month months multi name negative neutral new non notes null nulls
number numbers observed of others opened orders outcome overall pairs parameter participation path
paths per percent period personal planned popularity position positive predicted predictors previous
price probability product products promotion promotions rank rate ratio raw reach reached read reason
recommend recommendations recommended relative relevant removal repeat repurchase required responded
response responses retained retention return returns revenue risk rows rule rules sample sat scored
score segment sent service severity share significant single size small social source spend split
start status store summary support survey switch table tables tagged term test threshold tied tier
time to top total touch touches touchpoints train treated trust type unique unit units until upper
validation value variant vs warnings web weekend why window with without workspace worse yes
purchase purchases beats bottom changed cluster complete cuts deleted given half if matched most open
pct proportion reverse reversed sensitive shift weight factors keyed
actual adjusted balance bronze categories closing detractor downgrade downgrades earners ended error
expired figure fired followed forward gold left lines mentions more movement net observations or out
paid periods point points post pre promo promoter query range redeemed redeemers redemptions said sales
silver spent stays still terms tested tiers unsubscribe unsubscribed upgrade upgrades used year scale
recommendation
""".split())

MONTH = re.compile(r"m\d{1,3}")  # m0, m1 ... m35: periods after the cohort's first


def words(name: str) -> list[str]:
    """`Mean ipt days`, `mean_ipt_days`, `log:recency` -> ["mean", "ipt", "days"]."""
    return [w for w in re.split(r"[\s_:\-./()%]+", str(name).strip().lower()) if w]


def key_of(name: str) -> str:
    return "_".join(words(name))


def entries(name: str) -> list[str]:
    """The entries that explain `name`: its own, else one per technical word in it."""
    key = key_of(name)
    if key in NAMES:
        return [NAMES[key]]
    found = []
    for word in words(name):
        term = TERMS.get(word) or (f"{word}: period {word[1:]} after the cohort's first (months, or weeks "
                                   "when the period is a week)." if MONTH.fullmatch(word) else None)
        if term and term not in found:
            found.append(term)
    return found


def explain(name: str) -> str | None:
    """What `name` means: its own entry, else its technical words' entries; None when it is
    plain English (or unknown: see `unexplained`)."""
    return " ".join(entries(name)) or None


def unexplained(name: str) -> list[str]:
    """The words of `name` that are neither plain English nor explained here."""
    if key_of(name) in NAMES:
        return []
    return [w for w in words(name) if w not in PLAIN and w not in TERMS and not w.isdigit()
            and not MONTH.fullmatch(w)]


def glossary_for(names) -> list[tuple[str, str]]:
    """(name, meaning) for each name that has one, in order, once (for an export's footnote)."""
    seen, out = set(), []
    for name in names:
        # A list of names shows each entry once: "naive_mape" and "model_mape" share MAPE's.
        fresh = [text for text in entries(name) if text not in seen]
        if fresh:
            seen.update(fresh)
            out.append((name, " ".join(fresh)))
    return out
