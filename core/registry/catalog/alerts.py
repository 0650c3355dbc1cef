"""`loyalist alerts`: the [[alerts]] rules of loyalist.toml, checked against the data."""

from __future__ import annotations

from core.registry.catalog import AS_OF
from core.registry.model import Analysis, Group, register, register_group

register_group(Group("alerts", "Alerts", "Check the alert rules in loyalist.toml and list the customers behind "
                     "those that fire.", screen="reports", single="alerts.check"))

register(Analysis(
    "alerts.check", "Alerts", "The alert rules of loyalist.toml: which fire, with the figure, its comparison "
    "and the customers behind each (the audience; --output writes it)",
    run="core.alerts:check_alerts", command="", noun="alerts", per_customer=("audience",),
    details="Needs transactions and alert rules in loyalist.toml (an alerts list), e.g. metric = \"active_customers\" segment = "
    "\"Champions\" change = \"-15%\" window = \"28d\", or metric = \"churn_risk\" threshold = 0.8.",
    options=(AS_OF,),
))
