"""Infer which source header holds which canonical column, from known synonyms.

Headers are compared after normalising (Unicode NFKC, lower case, spaces, underscores
and punctuation removed), so `Customer Number`, `customer_number` and `CUSTOMER-NUMBER`
are the same key. A header that is the canonical name itself wins; otherwise two headers
that both match one canonical column (`Customer` and `CustID`) are refused, naming both,
until loyalist.toml says which one to use: guessing would silently pick the wrong column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from core.contract import TABLES
from core.errors import InputError, UnmappedColumnError

# Synonyms shared by every table that has the column. English and Chinese headers
# seen in CRM, POS, e-commerce and survey-tool exports.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id", "custid", "cust_id", "customer", "customer number", "customer no",
        "customer code", "client id", "clientid", "member id", "member no", "member number",
        "user id", "userid", "buyer id", "account id", "shopper id", "contact id",
        "客户id", "客户编号", "客户号", "客户代码", "会员编号", "会员id", "会员号", "会员卡号",
        "用户id", "用户编号", "顾客id", "顾客编号", "买家id",
    ),
    "order_date": (
        "order_date", "order date", "orderdate", "purchase date", "transaction date",
        "txn date", "sale date", "sales date", "invoice date", "date", "order time",
        "purchase time", "transaction time", "created at",
        "订单日期", "下单日期", "购买日期", "交易日期", "销售日期", "日期", "下单时间",
        "订单时间", "交易时间", "购买时间",
    ),
    "amount": (
        "amount", "order amount", "order value", "order total", "total", "total amount",
        "sales", "sales amount", "revenue", "net sales", "value", "spend", "price",
        "payment", "paid", "gmv",
        "金额", "订单金额", "实付金额", "支付金额", "销售额", "销售金额", "消费金额",
        "交易金额", "总金额", "付款金额",
    ),
    "order_id": (
        "order_id", "order id", "order no", "order number", "transaction id", "txn id",
        "invoice", "invoice no", "invoice number", "receipt no", "receipt id",
        "订单号", "订单编号", "订单id", "交易号", "交易编号", "流水号", "小票号",
    ),
    "channel": (
        "channel", "sales channel", "purchase channel", "source", "medium", "platform",
        "渠道", "销售渠道", "购买渠道", "来源渠道", "平台", "触点渠道",
    ),
    "quantity": ("quantity", "qty", "units", "items", "数量", "件数", "购买数量"),
    "product_id": (
        "product_id", "product id", "sku", "item id", "product code", "article",
        "商品id", "商品编号", "产品编号", "产品id", "货号",
    ),
    "category": ("category", "product category", "department", "品类", "类别", "商品类别", "类目"),
    "campaign_id": (
        "campaign_id", "campaign id", "campaign", "campaign code",
        "活动id", "活动编号", "营销活动", "活动",
    ),
    "promo_id": ("promo_id", "promo id", "promotion", "promo code", "coupon", "促销", "促销编号", "优惠券"),
    "signup_date": (
        "signup_date", "signup date", "registration date", "registered", "join date",
        "created date", "注册日期", "注册时间", "开户日期",
    ),
    "is_member": ("is_member", "member", "loyalty member", "membership", "是否会员", "会员"),
    "member_since": ("member_since", "member since", "joined program", "program join date", "入会日期", "入会时间"),
    "tier": ("tier", "member tier", "level", "member level", "会员等级", "等级"),
    "acquisition_channel": ("acquisition_channel", "acquisition channel", "first channel", "获客渠道", "注册渠道"),
    "acquisition_cost": ("acquisition_cost", "acquisition cost", "cac", "获客成本"),
    "region": ("region", "city", "province", "area", "state", "地区", "城市", "省份", "区域"),
    "age": ("age", "年龄"),
    "gender": ("gender", "sex", "性别"),
    "income_band": ("income_band", "income band", "income", "收入", "收入水平"),
    "name": ("name", "customer name", "full name", "姓名", "客户姓名", "会员姓名", "名字"),
    "timestamp": (
        "timestamp", "time", "datetime", "event time", "touch time", "date time",
        "时间", "时间戳", "触达时间",
    ),
    "touch_type": ("touch_type", "touch type", "event", "event type", "action", "type", "事件", "事件类型", "类型"),
    "cost": ("cost", "spend", "media cost", "费用", "成本"),
    "response_date": ("response_date", "response date", "survey date", "submitted", "date", "答卷日期", "调查日期", "提交时间"),
    "nps": (
        "nps", "likelihood to recommend", "recommend score", "ltr", "recommend",
        "推荐意愿", "净推荐值", "推荐得分",
    ),
    "csat": ("csat", "satisfaction", "customer satisfaction", "overall satisfaction", "满意度", "总体满意度"),
    "ces": ("ces", "customer effort", "effort score", "费力度"),
    "comment": ("comment", "comments", "feedback", "verbatim", "评论", "意见", "反馈"),
    "start_date": ("start_date", "start date", "start", "begin", "开始日期", "开始时间"),
    "end_date": ("end_date", "end date", "end", "finish", "结束日期", "结束时间"),
    "spend": ("spend", "budget", "cost", "campaign cost", "花费", "预算", "投入"),
    "target": ("target", "audience", "target group", "segment", "目标人群", "目标"),
    "experiment": ("experiment", "experiment name", "test", "test name", "experiment id", "实验", "实验名称"),
    "variant": ("variant", "group", "arm", "treatment", "bucket", "分组", "实验组", "版本"),
    "exposure_date": ("exposure_date", "exposure date", "assigned", "assignment date", "曝光日期", "分组日期"),
    "converted": ("converted", "conversion", "purchased", "success", "是否转化", "转化"),
    "revenue": ("revenue", "sales", "value", "amount", "收入", "金额"),
    # the points ledger (date is shared with no other table: order_date's synonyms stay there)
    "date": ("date", "points date", "posting date", "transaction date", "txn date", "event date",
             "日期", "积分日期", "变动日期", "交易日期", "时间"),
    "points": ("points", "point", "points amount", "point change", "points change", "loyalty points",
               "积分", "积分变动", "积分数", "变动积分", "积分值"),
    "kind": ("kind", "points type", "point type", "movement", "transaction type", "type", "event",
             "积分类型", "变动类型", "类型", "交易类型"),
    "reason": ("reason", "description", "note", "memo", "source", "原因", "说明", "备注", "积分来源"),
}


def normalise_header(header: str) -> str:
    text = unicodedata.normalize("NFKC", str(header)).strip().lower()
    return re.sub(r"[\s_\-./()#:：（）\[\]]+", "", text)


_KEYS: dict[str, tuple[str, ...]] = {
    col: tuple(normalise_header(s) for s in syns) for col, syns in SYNONYMS.items()
}


def synonym_headers(column: str, headers: list[str]) -> list[str]:
    """The headers whose normalised name is one of `column`'s synonyms, best synonym first."""
    keys = _KEYS.get(column, (normalise_header(column),))
    ranked = sorted((keys.index(normalise_header(h)), i, h) for i, h in enumerate(headers)
                    if normalise_header(h) in keys)
    return [h for _, _, h in ranked]


@dataclass(frozen=True)
class ColumnMatch:
    canonical: str
    source: str
    how: str  # "loyalist.toml" | "name" (the canonical name itself) | "synonym"


def infer_mapping(
    table: str, headers: list[str], explicit: dict[str, str] | None = None, *, file: str = "",
) -> tuple[list[ColumnMatch], list[str]]:
    """Match a table's canonical columns to source headers.

    Returns the matches (explicit ones from loyalist.toml first) and the headers left
    over, which are kept as extra columns under their own names. Two headers matching
    one canonical column raise InputError (see the module docstring).
    """
    explicit = explicit or {}
    matches = [ColumnMatch(canon, src, "loyalist.toml") for canon, src in explicit.items()]
    taken = set(explicit.values())
    free = [h for h in headers if h not in taken]
    keyed = {h: normalise_header(h) for h in free}
    for column in TABLES[table].columns:
        if column.name in explicit:
            continue
        keys = _KEYS.get(column.name, (normalise_header(column.name),))
        candidates = sorted((keys.index(k), h) for h, k in keyed.items() if k in keys)
        if candidates:
            exact = [h for _, h in candidates if keyed[h] == normalise_header(column.name)]
            if len(candidates) > 1 and not exact:
                raise _ambiguous(table, column.name, [h for _, h in candidates], file)
            header = exact[0] if exact else candidates[0][1]
            how = "name" if exact else "synonym"
            matches.append(ColumnMatch(column.name, header, how))
            del keyed[header]
    return matches, list(keyed)


def _ambiguous(table: str, canonical: str, headers: list[str], file: str) -> InputError:
    named = " and ".join(repr(h) for h in headers)
    best = headers[0].replace('"', '\\"')
    return UnmappedColumnError(
        f"columns {named} could both be {canonical}", table=table, canonical=canonical,
        file=file or None, column=headers[0],
        fix=f'say which one in loyalist.toml: [tables.{table}.columns] {canonical} = "{best}"',
    )
