"""CF-style xarray output of a flood run: snapshots, maxima and first-exceedance times."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

if TYPE_CHECKING:
    from sim.flood.model import FloodModel


def model_dataset(model: FloodModel) -> xr.Dataset:
    """The :meth:`sim.flood.model.FloodModel.to_dataset` of ``model`` (see there)."""
    snaps = model.snapshots or [(model.time, model.h.copy(), model.speed())]
    times = np.array([s[0] for s in snaps])
    dims = ("time", "y", "x")
    ds = xr.Dataset(
        {
            "depth": (dims, np.stack([s[1] for s in snaps]).astype(np.float32)),
            "speed": (dims, np.stack([s[2] for s in snaps]).astype(np.float32)),
            "max_depth": (("y", "x"), model.max_depth.astype(np.float32)),
            "time_first_exceedance": (("y", "x"), model.t_first),
            "elevation": (("y", "x"), model.dem.to_numpy().astype(np.float32)),
            "building": (("y", "x"), model.building_mask.astype(np.int8)),
        },
        coords={"time": times, "y": model.y, "x": model.x},
    )
    ds["time"].attrs = {
        "standard_name": "time",
        "long_name": "time since start of run",
        "units": "s",
        "axis": "T",
    }
    ds["x"].attrs = {"standard_name": "projection_x_coordinate", "units": "m", "axis": "X"}
    ds["y"].attrs = {"standard_name": "projection_y_coordinate", "units": "m", "axis": "Y"}
    ds["depth"].attrs = {
        "long_name": "surface water depth",
        "units": "m",
        "field": "surface_water__depth",
    }
    ds["speed"].attrs = {
        "long_name": "depth-averaged flow speed",
        "units": "m s-1",
        "field": "surface_water__speed",
    }
    ds["max_depth"].attrs = {
        "long_name": "maximum surface water depth",
        "units": "m",
        "cell_methods": "time: maximum",
    }
    ds["time_first_exceedance"].attrs = {
        "long_name": f"time depth first reached {model.threshold} m (NaN: never)",
        "units": "s",
        "threshold_m": model.threshold,
    }
    ds["elevation"].attrs = {"standard_name": "surface_altitude", "units": "m"}
    ds["building"].attrs = {
        "long_name": "building footprint",
        "units": "1",
        "flag_values": [0, 1],
        "flag_meanings": "open building",
    }
    ds.attrs = {
        "Conventions": "CF-1.8",
        "title": "StreetTwin local-inertial flood simulation",
        "source": "sim.flood.FloodModel (Bates et al. 2010; de Almeida et al. 2012)",
        "theta": model.theta,
        "alpha": model.alpha,
        "alpha_2d": model.alpha_2d,
        "h_dry_m": model.h_dry,
        "threshold_m": model.threshold,
        "dx_m": model.dx,
        "dy_m": model.dy,
        "n_steps": model.n_steps,
        **model.mass_balance(),
    }
    return ds
