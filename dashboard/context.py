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

from dashboard.deckgl import SerialisedDeck, district_deck, serialise_deck
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
    _serialised: dict[str, SerialisedDeck] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

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

    def serialised_deck(self, style: str) -> SerialisedDeck:
        """:meth:`deck` serialised to JSON (and gzip) once, for ``/api/layers`` to serve."""
        with self._lock:
            if style not in self._serialised:
                self._serialised[style] = serialise_deck(self.deck(style))
            return self._serialised[style]

    def warm(self, styles: tuple[str, ...]) -> threading.Thread:
        """Build and serialise the decks of ``styles`` in a background thread, now.

        The app factory calls this so that the first wall screen to connect after a start
        does not wait seconds for the district's geometry to be built.
        """

        def build() -> None:
            for style in styles:
                self.serialised_deck(style)

        thread = threading.Thread(target=build, name="deck-warm", daemon=True)
        thread.start()
        return thread


def current_context() -> TwinContext:
    """The :class:`TwinContext` of the app serving the current request."""
    return flask.current_app.config[CONFIG_KEY]
