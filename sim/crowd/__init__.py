"""Crowding: density and level of service per place, short-range forecast and early flags."""
