"""Evidence page (see :mod:`app.views.evidence`)."""

from app.views.evidence import render

render()
