"""The emulator's HTTP face, one ``APIRouter`` per OpenAPI tag (moto's "responses" shape).

Routes only translate requests to :class:`~sandbox.bluecherry.backend.Backend` calls; the
app (``app.py``) holds the backend, the fault injector and the API key in ``app.state``.
"""
