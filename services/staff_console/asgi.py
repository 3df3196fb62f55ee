"""The ASGI entry point: ``uvicorn services.staff_console.asgi:app``. Settings come from the environment."""

from services.staff_console.main import create_app

app = create_app()
