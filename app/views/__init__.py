"""One module a page: each has a ``render()`` that draws it."""
