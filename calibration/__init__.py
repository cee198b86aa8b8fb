"""Calibration: targets, the adult ACE model fit, and (later) sensitivity analysis and fitting."""
