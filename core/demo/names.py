"""Customer names and demographics; none of them carries a planted effect (null truths)."""

from __future__ import annotations

import numpy as np
import polars as pl

CHINESE_NAME_SHARE = 0.20
REGIONS = ("North", "South", "East", "West", "Central")
REGION_PROBS = (0.22, 0.24, 0.20, 0.18, 0.16)
GENDERS = ("F", "M", "X")
GENDER_PROBS = (0.51, 0.47, 0.02)
INCOME_BANDS = ("<30k", "30-60k", "60-100k", "100k+")
INCOME_PROBS = (0.20, 0.35, 0.30, 0.15)
AGE_MEAN, AGE_SD, AGE_RANGE = 41.0, 13.0, (18, 85)

FIRST_F = ("Emma", "Olivia", "Sophie", "Mia", "Hannah", "Laura", "Anna", "Julia", "Chloe",
           "Grace", "Lucy", "Sarah", "Maria", "Elena", "Nora", "Amelia", "Zoe", "Isabel")
FIRST_M = ("James", "Oliver", "Lucas", "Noah", "Liam", "Daniel", "Thomas", "David", "Jack",
           "Samuel", "Adam", "Ben", "Leo", "Max", "Henry", "Peter", "Omar", "Victor")
LAST = ("Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Walker", "Wright", "Green",
        "Hall", "Wood", "Clarke", "Martin", "Garcia", "Müller", "Novak", "Rossi", "Silva",
        "Kowalski", "Jensen", "O'Brien", "Dubois", "Nguyen", "Khan")
SURNAMES_ZH = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "欧阳")
GIVEN_F_ZH = ("芳", "娜", "秀英", "敏", "静", "丽", "艳", "娟", "霞", "婷", "雪梅", "玉兰")
GIVEN_M_ZH = ("伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "建国", "志强")


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> pl.Series:
    return pl.Series(options)[rng.integers(0, len(options), size=n)]


def demographics(rng: np.random.Generator, n: int) -> pl.DataFrame:
    gender = rng.choice(len(GENDERS), size=n, p=GENDER_PROBS)
    female = (gender == 0) | ((gender == 2) & (rng.random(n) < 0.5))
    chinese = rng.random(n) < CHINESE_NAME_SHARE
    western = pl.Series(np.where(female, _pick(rng, FIRST_F, n).to_numpy(),
                                 _pick(rng, FIRST_M, n).to_numpy())) + " " + _pick(rng, LAST, n)
    zh = _pick(rng, SURNAMES_ZH, n) + pl.Series(np.where(
        female, _pick(rng, GIVEN_F_ZH, n).to_numpy(), _pick(rng, GIVEN_M_ZH, n).to_numpy()))
    age = np.clip(np.rint(rng.normal(AGE_MEAN, AGE_SD, size=n)), *AGE_RANGE).astype(np.int64)
    return pl.DataFrame({
        "region": pl.Series(REGIONS)[rng.choice(len(REGIONS), size=n, p=REGION_PROBS)],
        "age": age,
        "gender": pl.Series(GENDERS)[gender],
        "income_band": pl.Series(INCOME_BANDS)[rng.choice(len(INCOME_BANDS), size=n, p=INCOME_PROBS)],
        "name": pl.Series(np.where(chinese, zh.to_numpy(), western.to_numpy())),
    })
