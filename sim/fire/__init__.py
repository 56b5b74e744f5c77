"""Urban fire spread between buildings: Hamada rates on a radiation-limited building graph.

Public entry points: :class:`sim.fire.model.FireSpreadModel`, the rate equations in
:mod:`sim.fire.hamada`, ``validate_fire`` (:mod:`sim.fire.validate`) and ``bench_fire``
(:mod:`sim.fire.bench`), both reached through the ``streettwin`` CLI tables.
"""
