"""The HTTP server: FastAPI app factory, routes, limits, metrics and the static web page.

Needs the ``server`` extra (``pip install 'alphacut[server]'``). Start it with ``alphacut serve``
or build an app with :func:`alphacut.interfaces.server.app.create_app`.
"""
