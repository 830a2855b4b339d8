"""Page routers, one module per area (``sign_in``, ``my_work``, ``people``, ``tasks``): each an ``APIRouter`` named
``router``, registered in ``web.app.routers()``. Every route declares its action with ``web.auth.requires``."""
