"""Engagement funnel of sent messages (email, push): sent -> delivered -> open -> click.

Each message row keeps the furthest stage it reached as its touch_type. Opening falls
with contact frequency: past a planted number of messages in a trailing window, every
extra message multiplies the open chance (contact fatigue). Drawn from its own stream
after the touches, so no other table's draws move.
"""

from __future__ import annotations

import numpy as np

from core.demo.marketing import TOUCH_CHANNEL_NAMES, Touches
from core.demo.params import ENGAGEMENT, FUNNEL_STAGES


def messages_in_window(cust: np.ndarray, t: np.ndarray, days: float) -> np.ndarray:
    """Per message, the messages the same customer got in (t - days, t], itself included."""
    order = np.lexsort((t, cust))
    span = float(t.max() - t.min() + 2 * days + 1) if len(t) else 1.0
    key = cust[order] * span + t[order]  # one sorted axis: customers apart by more than a window
    count = np.arange(len(key)) - np.searchsorted(key, key - days, side="right") + 1
    out = np.empty(len(t), dtype=np.int64)
    out[order] = count
    return out


def funnel_stages(rng: np.random.Generator, touches: Touches) -> np.ndarray:
    """touch_type per touch: the furthest funnel stage for messages, None for other channels."""
    stages = np.full(len(touches.cust), None, dtype=object)
    channel_names = np.asarray(TOUCH_CHANNEL_NAMES)[touches.channel]
    is_message = np.isin(channel_names, [f.channel for f in ENGAGEMENT.funnels])
    cust, t = touches.cust[is_message], touches.t[is_message]
    k = messages_in_window(cust, t, ENGAGEMENT.window_days)
    fatigue = ENGAGEMENT.fatigue_decay ** np.maximum(k - ENGAGEMENT.fatigue_threshold, 0)
    delivered = np.zeros(len(cust))
    opened = np.zeros(len(cust))
    clicked = np.zeros(len(cust))
    names = channel_names[is_message]
    for funnel in ENGAGEMENT.funnels:  # two channels, not rows
        mine = names == funnel.channel
        delivered[mine], opened[mine], clicked[mine] = funnel.delivered, funnel.open, funnel.click
    u = rng.random((3, len(cust)))
    depth = ((u[0] < delivered).astype(np.int64)
             * (1 + (u[1] < opened * fatigue) * (1 + (u[2] < clicked))))
    stages[is_message] = np.asarray(FUNNEL_STAGES, dtype=object)[depth]
    return stages
