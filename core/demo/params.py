"""Every planted parameter of the sample workspace, in one place.

fixtures/README.md documents these values and truth.json repeats them, so an analysis
can be tested against the truth it is supposed to recover. Rates are per year, times
in days; dates are offsets so that any `end` date works.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.demo import names

YEARS = 3  # the data span: end - 3*365 days .. end (inclusive)


@dataclass(frozen=True)
class CustomerType:
    """A latent customer type: its share, signup window and BTYD parameters.

    BG/NBD (Fader, Hardie & Lee 2005): while alive, repeat purchases are Poisson with
    rate lambda ~ Gamma(shape r, rate alpha) per year (times a seasonal multiplier);
    after every repeat purchase the customer leaves for good with probability
    p ~ Beta(a, b). Order values follow Gamma-Gamma: value ~ Gamma(shape p_s, rate nu),
    nu ~ Gamma(shape q, rate gamma), so the mean order value is p_s * gamma / (q - 1).
    """

    name: str
    share: float
    signup_days_before_end: tuple[int, int]  # (most recent, oldest) first purchase
    r: float
    alpha: float
    a: float
    b: float
    spend_p: float
    spend_q: float
    spend_gamma: float
    loyalty_mean: float  # mean of the latent loyalty factor before standardising
    join_prob: float  # chance of intending to join the loyalty programme
    acquisition_mix: tuple[float, ...]  # over ACQUISITION_CHANNELS

    @property
    def mean_rate(self) -> float:
        return self.r / self.alpha

    @property
    def mean_dropout(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def mean_order_value(self) -> float:
        return self.spend_p * self.spend_gamma / (self.spend_q - 1)


ACQUISITION_CHANNELS = ("organic", "referral", "paid_search", "social", "display", "store")
ACQUISITION_COST = (0.0, 12.0, 40.0, 28.0, 35.0, 6.0)  # mean cost per acquired customer
ACQUISITION_COST_SIGMA = 0.35  # lognormal spread around the mean

TYPES: tuple[CustomerType, ...] = (
    CustomerType("champions", 0.10, (365, 1095), 9.0, 0.45, 1.0, 149.0,
                 6.0, 16.0, 350.0, 1.0, 0.55, (0.30, 0.25, 0.15, 0.10, 0.05, 0.15)),
    CustomerType("loyal", 0.20, (365, 1095), 8.0, 1.0, 1.0, 79.0,
                 5.0, 16.0, 225.0, 0.6, 0.40, (0.25, 0.15, 0.20, 0.15, 0.05, 0.20)),
    CustomerType("promising_new", 0.12, (5, 120), 6.0, 0.5, 1.0, 29.0,
                 5.0, 16.0, 195.0, 0.3, 0.25, (0.20, 0.10, 0.25, 0.25, 0.10, 0.10)),
    CustomerType("at_risk", 0.15, (365, 730), 9.0, 0.5, 20.0, 180.0,
                 5.0, 16.0, 285.0, -0.3, 0.30, (0.20, 0.10, 0.25, 0.20, 0.10, 0.15)),
    CustomerType("lost", 0.23, (540, 1095), 4.0, 8.0 / 3, 8.0, 2.0,
                 4.0, 16.0, 150.0, -1.0, 0.10, (0.10, 0.05, 0.25, 0.25, 0.25, 0.10)),
    CustomerType("occasional", 0.20, (365, 1095), 6.0, 3.0, 1.0, 99.0,
                 4.0, 16.0, 112.5, -0.3, 0.12, (0.20, 0.05, 0.20, 0.20, 0.15, 0.20)),
)
TYPE_NAMES = tuple(t.name for t in TYPES)

# Days between signup and first purchase: 0 for most, else geometric.
FIRST_PURCHASE_SAME_DAY = 0.6
FIRST_PURCHASE_LAG_MEAN_DAYS = 7.0

# Monthly multipliers of the purchase rate, Jan..Dec; they average exactly 1.
SEASONALITY = (0.85, 0.80, 0.90, 0.95, 1.00, 0.95, 0.90, 0.90, 0.95, 1.00, 1.35, 1.45)

PURCHASE_CHANNELS = ("store", "web", "app", "social")
CHANNEL_POPULARITY = (0.40, 0.35, 0.15, 0.10)


@dataclass(frozen=True)
class MultiChannel:
    """Customers with a repertoire of 2+ purchase channels (assigned independently of type)."""

    share: float = 0.40
    repertoire_size_probs: tuple[float, float, float] = (0.65, 0.30, 0.05)  # 2, 3, 4 channels
    dirichlet_concentration: float = 3.0  # how evenly a customer spreads orders over channels
    rate_multiplier: float = 1.05  # lambda x 1.05, i.e. alpha / 1.05
    dropout_b_multiplier: float = 4.0  # p ~ Beta(a, 4b): about a quarter of the dropout
    spend_multiplier: float = 1.08  # gamma x 1.08: mean order value x 1.08


MULTI = MultiChannel()

CATEGORIES = ("apparel", "beauty", "electronics", "home", "grocery", "sports")
CATEGORY_PROBS = (0.25, 0.15, 0.12, 0.18, 0.18, 0.12)
RETURN_RATES = (0.15, 0.04, 0.06, 0.06, 0.01, 0.08)  # chance an order is returned
PRODUCTS_PER_CATEGORY = 120
PRODUCT_ZIPF_EXPONENT = 1.1  # product k of a category is bought with weight 1 / k**1.1
PARTIAL_RETURN_SHARE = 0.20  # of returns; a partial return refunds half the order
PARTIAL_RETURN_FRACTION = 0.5
RETURN_DELAY_MIN_DAYS = 2
RETURN_DELAY_MEAN_EXTRA_DAYS = 10.0
QUANTITY_EXTRA_MEAN = 0.5  # quantity = 1 + Poisson(0.5)


@dataclass(frozen=True)
class Program:
    """The loyalty programme: a true lift after joining, and self-selection by type."""

    frequency_lift: float = 0.25  # purchase rate x 1.25 after member_since
    spend_lift: float = 0.10  # every order value x 1.10 after member_since
    multichannel_join_bonus: float = 0.10  # added to the type's join_prob
    join_at_first_purchase: float = 0.30  # share of joiners who join on day one
    join_delay_mean_days: float = 150.0  # others join after an exponential delay
    tier_thresholds: tuple[float, float] = (400.0, 1200.0)  # trailing-365-day spend: silver, gold


PROGRAM = Program()


@dataclass(frozen=True)
class PointsProgram:
    """The points ledger of programme members (points.csv, stream "points").

    Members earn on every order from the day they join: floor(order value x earn_per_unit x
    the tier's multiplier), the tier set by gross spend in the 365 days before the order
    (PROGRAM.tier_thresholds); joining gives a welcome bonus (kind adjust). Every full
    redeem_block of points earned becomes a reward, redeemed with redeem_prob after a
    geometric delay (mean redeem_delay_mean_days). The whole balance expires expiry_days
    after the last earning, unless the customer earns again first.
    """

    earn_per_unit: float = 1.0  # points per unit of order value, at the bronze multiplier
    tier_multipliers: tuple[float, float, float] = (1.0, 1.25, 1.5)  # bronze, silver, gold
    welcome_bonus: int = 100
    redeem_block: int = 500
    redeem_prob: float = 0.6
    redeem_delay_mean_days: float = 30.0
    expiry_days: int = 365
    point_value: float = 0.01  # money per point: the liability of the outstanding balance


POINTS = PointsProgram()

LOYALTY_BEHAVIOUR_RHO = 0.5  # within-type correlation of the loyalty factor with the purchase-rate score


@dataclass(frozen=True)
class TouchChannel:
    name: str
    touches_per_year: float  # for an average-engagement customer
    touch_type: str  # "sent": a message, whose row keeps its furthest funnel stage (ENGAGEMENT)
    cost: float  # per touch
    purchase_prob: float  # chance that a touch to a live customer triggers an extra order


TOUCH_CHANNELS: tuple[TouchChannel, ...] = (
    TouchChannel("email", 3.5, "sent", 0.01, 0.06),
    TouchChannel("paid_search", 1.5, "click", 0.90, 0.12),
    TouchChannel("social", 1.5, "click", 0.40, 0.04),
    TouchChannel("push", 1.5, "sent", 0.01, 0.05),
    TouchChannel("display", 2.0, "impression", 0.01, 0.0),
)
TOUCH_ENGAGEMENT_SLOPE = 0.35  # touch rate x exp(0.35 * loyalty)
TOUCH_RATE_AFTER_DEATH = 0.3  # lapsed customers still open some messages, at 30% of the rate
TRIGGER_DELAY_MEAN_DAYS = 1.5  # a triggered order follows its touch after Exp(1.5 days)


FUNNEL_STAGES = ("sent", "delivered", "open", "click")  # a message row's touch_type: the furthest stage


@dataclass(frozen=True)
class Funnel:
    channel: str
    delivered: float  # chance a message is delivered
    open: float  # chance a delivered message is opened (before fatigue)
    click: float  # chance an opened message is clicked


@dataclass(frozen=True)
class Engagement:
    """Messages (email, push) go through a funnel; opening fatigues with contact frequency."""

    funnels: tuple[Funnel, ...] = (Funnel("email", 0.97, 0.35, 0.30), Funnel("push", 0.95, 0.25, 0.20))
    window_days: float = 30.0  # messages counted in the trailing 30 days, the message itself included
    fatigue_threshold: int = 2  # up to 2 messages in the window: no fatigue
    fatigue_decay: float = 0.6  # each message past the threshold multiplies the open chance by 0.6


ENGAGEMENT = Engagement()


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    channel: str
    start: tuple[int, int]  # (month, day): the last such date whose window ends by the end date
    days: int
    target: str  # all | members | recent_365d | lapsed_180d
    holdout_share: float
    extra_order_prob: float  # the planted lift: extra order chance for a treated live customer
    cost_per_contact: float


CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign("CMP01", "New Year email", "email", (1, 7), 14, "all", 0.15, 0.05, 0.05),
    Campaign("CMP02", "Spring app push", "push", (3, 16), 10, "members", 0.15, 0.06, 0.02),
    Campaign("CMP03", "Summer social ads", "social", (6, 10), 21, "recent_365d", 0.15, 0.03, 0.80),
    Campaign("CMP04", "Win-back email", "email", (8, 9), 21, "lapsed_180d", 0.20, 0.04, 0.05),
    Campaign("CMP05", "Autumn display", "display", (9, 16), 28, "all", 0.15, 0.0, 0.60),
    Campaign("CMP06", "Singles' Day search", "paid_search", (11, 10), 3, "recent_365d", 0.15, 0.08, 1.50),
    Campaign("CMP07", "Black Friday email", "email", (11, 28), 5, "all", 0.15, 0.10, 0.05),
    Campaign("CMP08", "Christmas push", "push", (12, 11), 10, "members", 0.15, 0.07, 0.02),
)
TARGET_DESCRIPTIONS = {
    "all": "every customer whose first purchase was before the start",
    "members": "programme members (member_since before the start)",
    "recent_365d": "customers with an order in the 365 days before the start",
    "lapsed_180d": "customers with no order in the 180 days before the start",
}


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: tuple[str, str]
    conversion: tuple[float, float]
    start: tuple[int, int]  # (month, day) of the exposure window's first day, as for campaigns
    days: int
    revenue_shape: float = 4.0  # revenue of a conversion ~ Gamma(4, mean 60), same in both arms
    revenue_mean: float = 60.0


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("free_shipping_offer", ("control", "treatment"), (0.10, 0.15), (9, 3), 28),
    Experiment("homepage_aa", ("A1", "A2"), (0.10, 0.10), (7, 16), 28),
)


@dataclass(frozen=True)
class LikertItem:
    name: str
    text: str
    loading: float  # standardised loading on the latent loyalty factor


LIKERT_ITEMS: tuple[LikertItem, ...] = (
    LikertItem("loy_recommend", "I would recommend this shop to friends and family", 0.80),
    LikertItem("loy_repurchase", "I intend to keep buying here", 0.75),
    LikertItem("loy_first_choice", "This shop is my first choice for what it sells", 0.70),
    LikertItem("loy_trust", "I trust this shop to treat me well", 0.65),
    LikertItem("loy_attachment", "I feel attached to this brand", 0.60),
    LikertItem("loy_switch", "I would switch to a competitor for a better price (reverse-keyed)", -0.55),
    LikertItem("loy_weekend", "I mostly shop at weekends (pure noise)", 0.0),
)
REVERSE_ITEM = "loy_switch"
NOISE_ITEM = "loy_weekend"
LIKERT_POINTS = 7
LIKERT_CUM_PROBS = (0.04, 0.09, 0.18, 0.35, 0.58, 0.82)  # thresholds on a standard-normal latent

DRIVERS = ("sat_product", "sat_service", "sat_price", "sat_delivery")
DRIVER_EFFECTS_NPS = (0.35, 0.30, 0.20, 0.15)  # standardised, on the latent NPS propensity
DRIVER_CORRELATION = 0.30  # between any two drivers
NPS_LOYALTY_EFFECT = 0.40  # the loyalty factor's standardised effect on NPS propensity
DRIVER_EFFECTS_CSAT = (0.35, 0.25, 0.10, 0.20)
CSAT_LOYALTY_EFFECT = 0.20
DRIVER_POINTS = 5
DRIVER_CUM_PROBS = (0.05, 0.15, 0.40, 0.75)
NPS_CUM_PROBS = (0.008, 0.018, 0.03, 0.045, 0.07, 0.12, 0.22, 0.40, 0.60, 0.80)  # 0..10
CSAT_CUM_PROBS = (0.05, 0.12, 0.30, 0.65)  # 1..5
ITEM_MISSING_RATE = 0.015  # each Likert and driver answer is missing at random with this chance


@dataclass(frozen=True)
class SurveyWave:
    start: tuple[int, int] = (6, 1)  # (month, day), as for campaigns
    days: int = 30
    response_rate: float = 0.45  # of customers whose first purchase was before the wave
    comment_rate: float = 0.15


SURVEY = SurveyWave()


@dataclass(frozen=True)
class KanoFeature:
    name: str  # columns kano_<name>_func and kano_<name>_dysf
    shares: tuple[float, float, float, float, float, float]  # planted shares of M, O, A, I, R, Q


# Each respondent's class per feature is drawn from these shares, then one answer pair of
# that class from the Kano evaluation table, uniformly; each answer missing at ITEM_MISSING_RATE.
KANO_FEATURES = (
    KanoFeature("free_returns", (0.50, 0.20, 0.08, 0.17, 0.02, 0.03)),  # must-be
    KanoFeature("member_prices", (0.18, 0.48, 0.14, 0.15, 0.02, 0.03)),  # one-dimensional
    KanoFeature("birthday_gift", (0.04, 0.12, 0.52, 0.27, 0.02, 0.03)),  # attractive
    KanoFeature("paper_receipt", (0.10, 0.04, 0.08, 0.58, 0.15, 0.05)),  # indifferent
)


@dataclass(frozen=True)
class DelphiPanel:
    experts: int = 12
    rounds: int = 3
    scale: tuple[int, int] = (1, 10)  # importance rating
    # True importance of each loyalty item, in LIKERT_ITEMS order.
    importance: tuple[float, ...] = (9.0, 9.0, 8.0, 7.0, 6.0, 5.0, 2.0)
    first_round_sd: float = 1.8  # expert deviation from the truth in round 1
    persistence: float = 0.5  # each later round keeps this share of the previous deviation
    later_round_sd: float = 0.3  # plus fresh noise


DELPHI = DelphiPanel()


@dataclass(frozen=True)
class Complement:
    """A planted complementary pair: an order holding `a` also gets `b` with chance `add_prob`."""

    a: str  # product ids, e.g. "ELE-003" (category prefix, rank in the category)
    b: str
    add_prob: float


@dataclass(frozen=True)
class Baskets:
    """Order baskets: each order (value, channel and first line's category as drawn above)
    gets lines of products; the order value is split over its lines by list price x quantity."""

    extra_lines_mean: float = 0.7  # lines per order = 1 + min(Poisson(0.7), max_extra_lines)
    max_extra_lines: int = 5
    extra_quantity_mean: float = 0.3  # quantity of a further line = 1 + Poisson(0.3)
    favourites_per_category: int = 4  # per customer type: products 21 + t + 6j (j = 0..3) of each category
    favourite_first_rank: int = 21
    taste_share: float = 0.35  # chance a (non-repeat) line picks one of the customer type's favourites
    price_sigma: float = 0.5  # list price = category base price x lognormal(sigma), mean 1


BASKETS = Baskets()
CATEGORY_BASE_PRICE = (35.0, 22.0, 120.0, 45.0, 8.0, 40.0)  # in CATEGORIES order
# Chance a line re-buys the customer's own staple product of its category (repeat products).
REPEAT_PROBS = (0.05, 0.30, 0.02, 0.10, 0.45, 0.10)
# The categories of an order's further lines, per customer type (TYPES order, CATEGORIES order):
# segment-specific tastes on top of the favourites.
TYPE_CATEGORY_TASTE = (
    (0.10, 0.10, 0.35, 0.30, 0.05, 0.10),  # champions: electronics, home
    (0.10, 0.30, 0.05, 0.15, 0.35, 0.05),  # loyal: grocery, beauty
    (0.35, 0.30, 0.10, 0.05, 0.10, 0.10),  # promising_new: apparel, beauty
    (0.10, 0.05, 0.30, 0.05, 0.10, 0.40),  # at_risk: sports, electronics
    (0.40, 0.10, 0.05, 0.05, 0.35, 0.05),  # lost: apparel, grocery
    (0.10, 0.10, 0.05, 0.35, 0.30, 0.10),  # occasional: home, grocery
)
COMPLEMENTS: tuple[Complement, ...] = (
    Complement("ELE-003", "ELE-052", 0.40),  # a phone and its case
    Complement("APP-002", "APP-055", 0.30),
    Complement("SPO-004", "GRO-058", 0.35),  # running shoes and energy bars
    Complement("HOM-003", "HOM-061", 0.30),
    Complement("BEA-002", "BEA-064", 0.35),
    Complement("GRO-005", "GRO-067", 0.30),
)


def favourite_ranks(type_index: int) -> tuple[int, ...]:
    """The ranks (1-based, in every category) of one customer type's favourite products."""
    first, step = BASKETS.favourite_first_rank, len(TYPES)
    return tuple(first + type_index + step * j for j in range(BASKETS.favourites_per_category))


def planted() -> dict[str, Any]:
    """All planted parameters as a JSON-ready dict (the 'planted' part of truth.json)."""
    return {
        "years": YEARS,
        "types": [
            {**asdict(t), "acquisition_mix": dict(zip(ACQUISITION_CHANNELS, t.acquisition_mix)),
             "mean_rate_per_year": t.mean_rate, "mean_dropout": t.mean_dropout,
             "mean_order_value": t.mean_order_value}
            for t in TYPES
        ],
        "first_purchase": {"same_day_share": FIRST_PURCHASE_SAME_DAY,
                           "lag_mean_days": FIRST_PURCHASE_LAG_MEAN_DAYS},
        "acquisition": {"channels": list(ACQUISITION_CHANNELS),
                        "mean_cost": dict(zip(ACQUISITION_CHANNELS, ACQUISITION_COST)),
                        "cost_lognormal_sigma": ACQUISITION_COST_SIGMA},
        "seasonality": dict(zip(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                 "sep", "oct", "nov", "dec"), SEASONALITY)),
        "purchase_channels": dict(zip(PURCHASE_CHANNELS, CHANNEL_POPULARITY)),
        "multichannel": asdict(MULTI),
        "categories": {c: {"share": s, "return_rate": r}
                       for c, s, r in zip(CATEGORIES, CATEGORY_PROBS, RETURN_RATES)},
        "products": {"per_category": PRODUCTS_PER_CATEGORY, "zipf_exponent": PRODUCT_ZIPF_EXPONENT,
                     "base_price": dict(zip(CATEGORIES, CATEGORY_BASE_PRICE)),
                     "repeat_prob": dict(zip(CATEGORIES, REPEAT_PROBS))},
        "baskets": {**asdict(BASKETS),
                    "type_category_taste": {t.name: dict(zip(CATEGORIES, mix))
                                            for t, mix in zip(TYPES, TYPE_CATEGORY_TASTE)},
                    "favourite_ranks": {t.name: list(favourite_ranks(i)) for i, t in enumerate(TYPES)},
                    "complements": [asdict(c) for c in COMPLEMENTS]},
        "returns": {"partial_share": PARTIAL_RETURN_SHARE,
                    "partial_fraction": PARTIAL_RETURN_FRACTION,
                    "delay_days": f"{RETURN_DELAY_MIN_DAYS} + Exp(mean {RETURN_DELAY_MEAN_EXTRA_DAYS})"},
        "program": asdict(PROGRAM),
        "points": {**asdict(POINTS), "tiers": ["bronze", "silver", "gold"]},
        "loyalty_behaviour_rho": LOYALTY_BEHAVIOUR_RHO,
        "touch_channels": [asdict(c) for c in TOUCH_CHANNELS],
        "touch_engagement_slope": TOUCH_ENGAGEMENT_SLOPE,
        "touch_rate_after_death": TOUCH_RATE_AFTER_DEATH,
        "trigger_delay_mean_days": TRIGGER_DELAY_MEAN_DAYS,
        "engagement": {**asdict(ENGAGEMENT), "stages": list(FUNNEL_STAGES)},
        "campaigns": [asdict(c) for c in CAMPAIGNS],
        "campaign_targets": TARGET_DESCRIPTIONS,
        "experiments": [asdict(e) for e in EXPERIMENTS],
        "survey": {
            **asdict(SURVEY),
            "likert_items": [asdict(i) for i in LIKERT_ITEMS],
            "likert_points": LIKERT_POINTS, "likert_cum_probs": LIKERT_CUM_PROBS,
            "reverse_item": REVERSE_ITEM, "noise_item": NOISE_ITEM,
            "drivers": list(DRIVERS),
            "driver_effects_on_nps": dict(zip(DRIVERS, DRIVER_EFFECTS_NPS)),
            "driver_correlation": DRIVER_CORRELATION,
            "loyalty_effect_on_nps": NPS_LOYALTY_EFFECT,
            "driver_effects_on_csat": dict(zip(DRIVERS, DRIVER_EFFECTS_CSAT)),
            "loyalty_effect_on_csat": CSAT_LOYALTY_EFFECT,
            "driver_points": DRIVER_POINTS, "driver_cum_probs": DRIVER_CUM_PROBS,
            "nps_cum_probs": NPS_CUM_PROBS, "csat_cum_probs": CSAT_CUM_PROBS,
            "item_missing_rate": ITEM_MISSING_RATE,
            "kano": {f.name: dict(zip("MOAIRQ", f.shares)) for f in KANO_FEATURES},
        },
        "demographics": _demographics(),
        "demand": festivals_planted(),
        "delphi": {**asdict(DELPHI),
                   "items": [i.name for i in LIKERT_ITEMS],
                   "importance": dict(zip((i.name for i in LIKERT_ITEMS), DELPHI.importance))},
        **planted_prices_and_promotions(),
    }


def _demographics() -> dict[str, Any]:
    """The customers' attributes carry no planted effect; their distributions, for the record."""
    return {
        "effect": "none (null truths)",
        "chinese_name_share": names.CHINESE_NAME_SHARE,
        "region": dict(zip(names.REGIONS, names.REGION_PROBS)),
        "gender": dict(zip(names.GENDERS, names.GENDER_PROBS)),
        "income_band": dict(zip(names.INCOME_BANDS, names.INCOME_PROBS)),
        "age": {"mean": names.AGE_MEAN, "sd": names.AGE_SD, "range": list(names.AGE_RANGE)},
    }


# Prices and promotions (report pricing, report promotions; streams "prices" and "promotions").
@dataclass(frozen=True)
class PricePlant:
    """Exogenous markdowns in a few categories with a known own-price elasticity: each product
    of a planted category is marked down in a calendar month with chance MARKDOWN_PROB, by a
    depth drawn evenly from MARKDOWN_DEPTHS (without looking at demand). A unit then costs
    list price / UNITS_PER_LINE x (1 - depth), and a line holds x = (its value as drawn) x
    (1 - depth) ** elasticity / (the regular unit price) units, rounded up with chance
    x - floor(x), else down (at least 1): the expected units are exactly x."""

    category: str
    elasticity: float


PRICE_PLANTS = (
    PricePlant("apparel", -0.8),
    PricePlant("home", -1.5),
    PricePlant("sports", -2.5),
)
MARKDOWN_PROB = 0.3
UNITS_PER_LINE = 2  # planted categories' unit price is half the list price (finer-grained units)
MARKDOWN_DEPTHS = (0.1, 0.2, 0.3)


@dataclass(frozen=True)
class Promotion:
    """A store-wide promotion: extra orders (`lift` x the orders the window had), copies of
    orders from the 60 days before it, and a share `pull_forward` of the orders of the
    `post_days` after it moved into it (a dip after); every such order is tagged with the
    promo_id and sold `discount` off."""

    promo_id: str
    name: str
    start: str  # ISO date
    days: int
    lift: float
    pull_forward: float
    discount: float
    post_days: int = 14


PROMOTIONS = (
    Promotion("PR01", "Spring sale", "2024-04-03", 7, 0.4, 0.3, 0.20),
    Promotion("PR02", "Summer sale", "2024-07-17", 10, 0.3, 0.2, 0.15),
    Promotion("PR03", "Autumn sale", "2024-10-09", 7, 0.3, 0.25, 0.25),
    Promotion("PR04", "Spring sale", "2025-05-07", 7, 0.4, 0.3, 0.20),
    Promotion("PR05", "Back to school", "2025-07-09", 10, 0.3, 0.2, 0.30),
    Promotion("PR06", "Members' days", "2025-07-16", 7, 0.2, 0.0, 0.10),  # overlaps PR05 on 16-18 July
)
PROMO_CLONE_DAYS = 60


def planted_prices_and_promotions() -> dict[str, Any]:
    return {
        "prices": {"plants": [asdict(p) for p in PRICE_PLANTS], "markdown_prob": MARKDOWN_PROB,
                   "markdown_depths": list(MARKDOWN_DEPTHS), "period": "calendar month",
                   "units_per_line": UNITS_PER_LINE},
        "promotions": {"promotions": [asdict(p) for p in PROMOTIONS], "clone_days": PROMO_CLONE_DAYS},
    }


# Planted demand pattern (stream "festivals", core.demo.festivals): on top of the orders
# above, each order of day d is copied Poisson(m_d - 1) times on the same day (same customer),
# so day d expects m_d times its orders, m_d = trend x weekday x holiday multiplier.
# The holiday windows are core.forecast.holidays' (the calendar the forecast uses).
FESTIVAL_MULTIPLIERS = {"singles_day": 3.0, "618": 2.0, "double_12": 1.8, "black_friday": 2.0,
                        "christmas": 1.6, "spring_festival": 1.5}
WEEKDAY_MULTIPLIERS = (1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 1.1)  # Monday .. Sunday
TREND_PER_YEAR = 0.05  # m grows linearly: 1 + 0.05 x years since the start


def festivals_planted() -> dict[str, Any]:
    return {"holiday_multipliers": FESTIVAL_MULTIPLIERS,
            "weekday_multipliers": dict(zip(("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
                                            WEEKDAY_MULTIPLIERS)),
            "trend_per_year": TREND_PER_YEAR,
            "rule": "each order of day d is copied Poisson(m_d - 1) times that day, m_d = (1 + trend x "
                    "years since start) x weekday multiplier x holiday multiplier"}
