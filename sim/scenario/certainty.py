"""CAP 1.2 ``<certainty>`` from an ensemble probability, so warnings can carry how sure they are.

CAP 1.2 (OASIS, 2010, §3.2.2 ``certainty``) defines the codes in words:
``Observed`` — determined to have occurred or to be ongoing; ``Likely`` — likely (p > ~50 %);
``Possible`` — possible but not likely (p <= ~50 %); ``Unlikely`` — not expected to occur
(p ~ 0); ``Unknown`` — certainty unknown. "p ~ 0" is taken here as below
:data:`UNLIKELY_BELOW` (one member in twenty), the resolution of a typical small ensemble.
"""

from __future__ import annotations

import math

#: below this probability an event counts as "not expected to occur" (p ~ 0)
UNLIKELY_BELOW = 0.05
#: above this probability an event is "Likely" (CAP: p > ~50 %)
LIKELY_ABOVE = 0.5


def cap_certainty(probability: float | None, *, observed: bool = False) -> str:
    """The CAP 1.2 certainty code for a probability of occurrence (0–1).

    Parameters
    ----------
    probability : float or None
        Probability that the hazard happens (e.g. the fraction of ensemble members
        exceeding the threshold); ``None`` or NaN gives ``"Unknown"``.
    observed : bool
        The hazard is already measured to be happening (a sensor, not a forecast).

    Examples
    --------
    >>> [cap_certainty(p) for p in (0.0, 0.05, 0.5, 0.51, 1.0)]
    ['Unlikely', 'Possible', 'Possible', 'Likely', 'Likely']
    >>> cap_certainty(0.2, observed=True), cap_certainty(float("nan"))
    ('Observed', 'Unknown')
    """
    if observed:
        return "Observed"
    if probability is None or math.isnan(probability):
        return "Unknown"
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"probability must be within [0, 1], got {probability}")
    if probability > LIKELY_ABOVE:
        return "Likely"
    if probability >= UNLIKELY_BELOW:
        return "Possible"
    return "Unlikely"
