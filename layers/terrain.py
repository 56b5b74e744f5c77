"""The terrain map style's relief: a hillshade of the district DEM, computed with numpy.

Shading follows the usual cartographic formula (Burrough & McDonnell, *Principles of GIS*,
1998; the one GDAL and ArcGIS use): illumination = cos(zenith)·cos(slope) +
sin(zenith)·sin(slope)·cos(azimuth − aspect), light from :data:`HILLSHADE_AZIMUTH_DEG` at
:data:`HILLSHADE_ALTITUDE_DEG`. Slopes turned from the light are laid over the ground as
black at up to :data:`HILLSHADE_MAX_ALPHA`, slopes facing it as a faint white; level ground
stays clear. Street relief is a few metres over a kilometre, so heights are exaggerated by
:data:`Z_FACTOR` first.
"""

from __future__ import annotations

import numpy as np
import pydeck as pdk
import xarray as xr

from layers.basemap import FLAT_PARAMETERS
from layers.raster import downsample_step, grid_corners, png_data_url
from layers.style import (
    HILLSHADE_ALTITUDE_DEG,
    HILLSHADE_AZIMUTH_DEG,
    HILLSHADE_MAX_ALPHA,
    PLAIN,
    MapStyle,
)

HILLSHADE_ID = "hillshade"
#: vertical exaggeration of the DEM before shading (urban relief is shallow)
Z_FACTOR = 5.0
#: longest side of the hillshade image, px
MAX_IMAGE_PX = 1024


def hillshade(
    elevation: np.ndarray,
    dx: float,
    dy: float,
    *,
    azimuth_deg: float = HILLSHADE_AZIMUTH_DEG,
    altitude_deg: float = HILLSHADE_ALTITUDE_DEG,
    z_factor: float = 1.0,
) -> np.ndarray:
    """Illumination 0–1 of each cell of a DEM whose rows run south to north.

    Parameters
    ----------
    elevation : array (ny, nx)
        Heights, m; row 0 is the southern edge, column 0 the western.
    dx, dy : float
        Cell size east and north, m.

    Examples
    --------
    Level ground is lit by cos(zenith) = sin(altitude); a slope facing the light is brighter
    than one facing away:

    >>> flat = hillshade(np.zeros((3, 3)), 1.0, 1.0)
    >>> round(float(flat[1, 1]), 4)
    0.7071
    >>> up_to_se = np.add.outer(-np.arange(3.0), np.arange(3.0))  # rises east and south
    >>> bool(hillshade(up_to_se, 1.0, 1.0)[1, 1] > 0.7071)
    True
    """
    z = np.asarray(elevation, dtype=float) * z_factor
    dz_north, dz_east = np.gradient(z, dy, dx)
    slope = np.arctan(np.hypot(dz_east, dz_north))
    # aspect: the compass direction the slope faces (downhill), radians clockwise from north
    aspect = np.arctan2(-dz_east, -dz_north)
    zenith = np.radians(90.0 - altitude_deg)
    az = np.radians(azimuth_deg)
    shade = np.cos(zenith) * np.cos(slope) + np.sin(zenith) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0)


def hillshade_rgba(shade: np.ndarray, altitude_deg: float = HILLSHADE_ALTITUDE_DEG) -> np.ndarray:
    """Overlay image of an illumination grid (rows south to north): black shadow, faint light.

    >>> img = hillshade_rgba(np.array([[0.0, np.sin(np.pi / 4), 1.0]]))
    >>> img[0, :, 3].tolist()
    [150, 0, 75]
    """
    level = np.sin(np.radians(altitude_deg))  # the illumination of level ground
    s = np.asarray(shade, dtype=float)[::-1]
    dark = np.clip((level - s) / level, 0.0, 1.0)
    light = np.clip((s - level) / (1.0 - level), 0.0, 1.0)
    alpha = np.where(dark > 0, dark * HILLSHADE_MAX_ALPHA, light * HILLSHADE_MAX_ALPHA / 2)
    grey = np.where(dark > 0, 0, 255)
    out = np.empty(s.shape + (4,), dtype=np.uint8)
    out[..., 0] = out[..., 1] = out[..., 2] = grey
    out[..., 3] = np.rint(alpha)
    return out


def build_hillshade_layer(dem: xr.DataArray, *, style: MapStyle = PLAIN) -> pdk.Layer:
    """The DEM's hillshade as a flat ``BitmapLayer`` with id ``"hillshade"``.

    Parameters
    ----------
    dem : xarray.DataArray
        Ground elevation (m), dims ``("y", "x")``, metric cell-centre coordinates, CRS in
        ``attrs["crs"]`` (the registry's DEM).
    style : MapStyle
        Accepted for the builder signature; the shading is the same on any ground.
    """
    del style
    dem = dem.sortby("x").sortby("y")
    step = downsample_step(dem.shape, MAX_IMAGE_PX)
    if step > 1:
        dem = dem.coarsen(x=step, y=step, boundary="trim").mean()
    x, y = dem.x.values.astype(float), dem.y.values.astype(float)
    dx = float(x[1] - x[0]) if len(x) > 1 else 1.0
    dy = float(y[1] - y[0]) if len(y) > 1 else 1.0
    shade = hillshade(dem.values, dx, dy, z_factor=Z_FACTOR)
    return pdk.Layer(
        "BitmapLayer",
        id=HILLSHADE_ID,
        data=None,
        image=pdk.types.String(png_data_url(hillshade_rgba(shade))),
        bounds=grid_corners(x, y, dem.attrs.get("crs", "EPSG:32649")),
        pickable=False,
        parameters=FLAT_PARAMETERS,
    )
