"""What pages and API handlers reach at request time: the running twin behind the app.

The app factory stores one :class:`TwinContext` in ``server.config["STREETTWIN"]``; pages and
blueprints call :func:`current_context` inside a request instead of importing the app, so the
same page module serves any app the factory builds (tests build several).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import flask

from dashboard.deckgl import district_deck
from twin.registry import Registry

CONFIG_KEY = "STREETTWIN"


@dataclass(eq=False)
class TwinContext:
    """The registry and settings of one app, plus view data derived from them once.

    Parameters
    ----------
    registry : twin.registry.Registry
        The district being watched.
    settings : dict
        The settings given to the app factory (``DATABASE_URL``, ``TESTING``, ...).
    """

    registry: Registry
    settings: dict[str, Any] = field(default_factory=dict)
    runtime: Any = None  # dashboard.runtime.TwinRuntime when live data is wired
    _decks: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def deck(self, style: str) -> dict[str, Any]:
        """The district's deck.gl payload in a map style, built on first use and cached.

        Returns
        -------
        dict
            ``{"deck": jsonInput, "background": css colour, "style": name}`` as made by
            :func:`dashboard.deckgl.district_deck`.
        """
        with self._lock:
            if style not in self._decks:
                self._decks[style] = district_deck(self.registry, style=style)
            return self._decks[style]


def current_context() -> TwinContext:
    """The :class:`TwinContext` of the app serving the current request."""
    return flask.current_app.config[CONFIG_KEY]
