"""Attribution: hand-worked path tables, and the absorbing chain checked by brute force."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from core.errors import InputError, MissingTableError
from core.evaluate.attribution import attribution, markov_edges, touches_from_paths

D, T = dt.date, dt.datetime


def paths(rows):
    return pl.LazyFrame(rows, schema=["path", "conversions", "nulls"], orient="row")


def by_channel(result, column, table="channels"):
    df = result.tables[table]
    return dict(zip(df["channel"], df[column]))


def test_markov_removal_effects_worked_by_hand():
    # start->A 2/3, start->B 1/3; A->B 1/2, A->null 1/2; B->conv 1. P(conv) = 2/3.
    # Without A: 1/3 (effect 1/2). Without B: 0 (effect 1). Shares 1/3 and 2/3 of 2 conversions.
    result = attribution(paths=paths([("A > B", 1, 0), ("A", 0, 1), ("B", 1, 0)]))
    assert result.headline["conversion_probability"] == pytest.approx(2 / 3)
    assert by_channel(result, "removal_effect") == pytest.approx({"A": 0.5, "B": 1.0})
    assert by_channel(result, "markov") == pytest.approx({"A": 2 / 3, "B": 4 / 3})
    # A is on two journeys, B on two: Markov credit per journey 1/3 and 2/3.
    assert by_channel(result, "markov_per_journey") == pytest.approx({"A": 1 / 3, "B": 2 / 3})


def test_higher_order_chain_stops_crediting_a_channel_that_only_leads_nowhere():
    # A > C always converts, B > C never does. Order 1 merges both into one "C" state and
    # credits B; order 2 keeps (A, C) and (B, C) apart and gives B nothing.
    table = paths([("A > C", 2, 0), ("B > C", 0, 2)])
    first = attribution(paths=table, markov_order=1)
    second = attribution(paths=table, markov_order=2)
    assert by_channel(first, "removal_effect") == pytest.approx({"A": 0.5, "B": 0.5, "C": 1.0})
    assert by_channel(first, "markov") == pytest.approx({"A": 0.5, "B": 0.5, "C": 1.0})
    assert by_channel(second, "removal_effect") == pytest.approx({"A": 1.0, "B": 0.0, "C": 1.0})
    assert by_channel(second, "markov") == pytest.approx({"A": 1.0, "B": 0.0, "C": 1.0})


def test_heuristic_models_worked_by_hand():
    table = pl.LazyFrame({
        "path": ["A > B > C > D", "B", "C > A"],
        "conversions": [1, 2, 1], "value": [100.0, 50.0, 40.0],
    })
    result = attribution(paths=table)
    assert by_channel(result, "first_touch") == pytest.approx({"A": 1, "B": 2, "C": 1, "D": 0})
    assert by_channel(result, "last_touch") == pytest.approx({"A": 1, "B": 2, "C": 0, "D": 1})
    assert by_channel(result, "linear") == pytest.approx({"A": 0.75, "B": 2.25, "C": 0.75, "D": 0.25})
    # 40/20/40: the two middle touches of A > B > C > D share 20%; two-touch paths split 50/50.
    assert by_channel(result, "position_based") == pytest.approx({"A": 0.9, "B": 2.1, "C": 0.6, "D": 0.4})
    assert by_channel(result, "position_based", "value") == pytest.approx(
        {"A": 40 + 20, "B": 10 + 50, "C": 10 + 20, "D": 40})
    assert result.headline["conversions"] == 4 and result.headline["total_value"] == 190
    assert by_channel(result, "time_decay") == {c: None for c in "ABCD"}  # no timestamps


def absorption_by_iteration(edges: pl.DataFrame) -> float:
    """P(conversion) by running the chain for many steps: a different method from the solve."""
    states = sorted(set(edges["from"]) | set(edges["to"]))
    index = {s: i for i, s in enumerate(states)}
    m = np.zeros((len(states), len(states)))
    for f, t, w in edges.iter_rows():
        m[index[f], index[t]] += w
    for s in ("(conversion)", "(null)"):
        m[index[s], index[s]] = 1.0
    m /= m.sum(axis=1, keepdims=True)
    return np.linalg.matrix_power(m, 4096)[index["(start)"], index["(conversion)"]]


@pytest.mark.parametrize("order", [1, 2])
def test_absorbing_chain_solution_matches_running_the_chain(order):
    rng = np.random.default_rng(order)
    channels = np.array(list("ABCDE"))
    rows = [(" > ".join(rng.choice(channels, rng.integers(1, 6))), int(rng.integers(0, 5)),
             int(rng.integers(0, 9))) for _ in range(60)]
    table = paths(rows)
    result = attribution(paths=table, markov_order=order)
    edges = markov_edges(touches_from_paths(table), order).collect()
    base = absorption_by_iteration(edges)
    assert result.headline["conversion_probability"] == pytest.approx(base, rel=1e-9)
    for channel, effect in by_channel(result, "removal_effect").items():
        kept = edges.filter(~pl.col("to").str.contains(channel, literal=True))
        dropped = edges.filter(pl.col("to").str.contains(channel, literal=True))
        # Removing a channel sends every transition into its states to the null state.
        redirected = pl.concat([kept.filter(~pl.col("from").str.contains(channel, literal=True)),
                                dropped.filter(~pl.col("from").str.contains(channel, literal=True))
                                .with_columns(pl.lit("(null)").alias("to"))])
        assert effect == pytest.approx(1 - absorption_by_iteration(redirected) / base, abs=1e-9)
    # Markov credit sums to the conversions, as every model does.
    total = sum(r[1] for r in rows)
    for model in ("first_touch", "last_touch", "linear", "position_based", "markov"):
        assert result.tables["channels"][model].sum() == pytest.approx(total)


def journeys():
    transactions = pl.LazyFrame({
        "customer_id": ["1", "1", "2", "3"],
        "order_date": [D(2024, 1, 10), D(2024, 2, 1), D(2024, 1, 5), D(2024, 1, 20)],
        "amount": [100.0, 50.0, 80.0, 30.0],
    })
    touchpoints = pl.LazyFrame({
        "customer_id": ["1", "1", "1", "1", "2", "4", "1"],
        "timestamp": [T(2024, 1, 1), T(2024, 1, 8, 10), T(2024, 1, 10, 23), T(2024, 1, 20),
                      T(2023, 11, 1), T(2024, 1, 3), T(2024, 2, 5)],
        "channel": ["email", "search", "social", "email", "email", "search", "display"],
    })
    return touchpoints, transactions


def test_paths_from_touchpoints_respect_lookback_and_previous_purchase():
    touchpoints, transactions = journeys()
    result = attribution(touchpoints, transactions, lookback_days=30, half_life_days=7)
    got = {r["path"]: (r["conversions"], r["nulls"], r["value"]) for r in result.tables["paths"].iter_rows(named=True)}
    # Customer 1: three touches up to and on the purchase day of Jan 10, then email before
    # Feb 1, then display after the last purchase (a null path). Customer 2's email came 65
    # days before the purchase, outside the window: a journey that did not convert.
    # Customer 4 never buys.
    assert got == {
        "email > search > social": (1, 0, 100), "email": (1, 1, 50),
        "display": (0, 1, 0), "search": (0, 1, 0),
    }
    assert by_channel(result, "touches") == {"email": 3, "search": 2, "social": 1, "display": 1}
    # Journeys with the channel on them: email is on three (two converting), search on two.
    assert by_channel(result, "journeys") == {"email": 3, "search": 2, "social": 1, "display": 1}
    assert result.headline["purchases"] == 4
    assert result.headline["purchases_without_touchpoints"] == 2
    # Time decay: weights 0.5^(days before purchase / 7) for 9, 2 and 0 days.
    w = 0.5 ** (np.array([9, 2, 0]) / 7)
    shares = w / w.sum()
    decay = by_channel(result, "time_decay")
    assert decay["email"] == pytest.approx(1 + shares[0])
    assert decay["search"] == pytest.approx(shares[1])
    assert decay["social"] == pytest.approx(shares[2])
    assert by_channel(result, "time_decay", "value")["email"] == pytest.approx(50 + 100 * shares[0])


def test_as_of_and_window_change_the_paths():
    touchpoints, transactions = journeys()
    wide = attribution(touchpoints, transactions, lookback_days=90)
    assert wide.headline["purchases_without_touchpoints"] == 1  # customer 2's email now counts
    assert wide.headline["conversions"] == 3
    early = attribution(touchpoints, transactions, as_of=D(2024, 1, 31))
    assert early.headline["purchases"] == 3
    assert "display" not in early.tables["channels"]["channel"].to_list()


def test_same_input_in_any_row_order_gives_the_same_answer():
    touchpoints, transactions = journeys()
    shuffled = touchpoints.collect().sample(fraction=1.0, shuffle=True, seed=4).lazy()
    a = attribution(touchpoints, transactions)
    b = attribution(shuffled, transactions.collect().reverse().lazy())
    assert a.tables["channels"].equals(b.tables["channels"])
    assert a.tables["paths"].equals(b.tables["paths"])


def test_paths_file_accepts_channelattribution_headers():
    table = pl.LazyFrame({"Path": ["a>b", "b"], "total_conversions": [3, 1], "total_null": [1, 5],
                          "total_conversion_value": [30.0, 10.0]})
    result = attribution(paths=table)
    assert result.headline["conversions"] == 4
    assert set(result.tables["value"]["channel"]) == {"a", "b"}


def test_bad_paths_file_names_the_problem():
    with pytest.raises(InputError, match="no 'conversions' column"):
        attribution(paths=pl.LazyFrame({"path": ["a"], "count": [1]}))
    with pytest.raises(InputError, match="rows 3"):
        attribution(paths=pl.LazyFrame({"path": ["a", " "], "conversions": [1, 1]}))


def test_missing_tables_are_named():
    _, transactions = journeys()
    with pytest.raises(MissingTableError, match="touchpoints"):
        attribution(None, transactions, workspace="shop")


def test_no_conversions_is_an_analysis_error_not_zeros():
    from core.errors import AnalysisError

    with pytest.raises(AnalysisError, match="no conversion"):
        attribution(paths=paths([("a > b", 0, 3)]))


def test_a_path_keeps_its_customer_day_and_channel_order():
    # Customer b: two touches at the same moment (ordered by channel name) and one a second
    # before midnight on the purchase day, all before that purchase. Customer a's touch is
    # the day before and a never buys: b's purchase must not be credited to it.
    touchpoints = pl.LazyFrame({
        "customer_id": ["b", "b", "b", "a"],
        "timestamp": [T(2024, 3, 1, 10), T(2024, 3, 1, 23, 59, 59), T(2024, 3, 1, 10), T(2024, 2, 29, 9)],
        "channel": ["search", "social", "email", "display"],
    })
    transactions = pl.LazyFrame({"customer_id": ["b"], "order_date": [D(2024, 3, 1)], "amount": [80.0]})
    result = attribution(touchpoints, transactions)
    got = {r["path"]: (r["conversions"], r["nulls"], r["value"]) for r in result.tables["paths"].iter_rows(named=True)}
    assert got == {"email > search > social": (1, 0, 80), "display": (0, 1, 0)}
    assert by_channel(result, "first_touch") == {"email": 1, "search": 0, "social": 0, "display": 0}


def test_a_touch_never_takes_another_customers_purchase_whatever_the_ids_and_dates():
    # Number ids, and dates a century apart: customer 7's touch comes after its only
    # purchase (1950), so it is a journey that did not convert even though customer 8 (and a
    # customer with no id) buy soon after it; 8's own touch converts.
    touchpoints = pl.LazyFrame({
        "customer_id": [7, 8, None],
        "timestamp": [T(2090, 5, 1), T(1950, 1, 1), T(2090, 5, 1)],
        "channel": ["email", "search", "social"],
    })
    transactions = pl.LazyFrame({
        "customer_id": [7, 8, None],
        "order_date": [D(1950, 1, 1), D(2090, 5, 2), D(2090, 5, 3)],
        "amount": [10.0, 20.0, 30.0],
    })
    result = attribution(touchpoints, transactions, lookback_days=60_000)
    got = {r["path"]: (r["conversions"], r["nulls"], r["value"]) for r in result.tables["paths"].iter_rows(named=True)}
    assert got == {"search": (1, 0, 20), "social": (1, 0, 30), "email": (0, 1, 0)}
