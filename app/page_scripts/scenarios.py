"""Scenarios page (see :mod:`app.views.scenarios`)."""

from app.views.scenarios import render

render()
