"""Budget page (see :mod:`app.views.budget`)."""

from app.views.budget import render

render()
