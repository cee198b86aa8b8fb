"""Compare page (see :mod:`app.views.compare`)."""

from app.views.compare import render

render()
