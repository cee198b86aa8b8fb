"""Explore page (see :mod:`app.views.explore`)."""

from app.views.explore import render

render()
