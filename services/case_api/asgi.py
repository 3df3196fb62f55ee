"""The ASGI entry point: ``uvicorn services.case_api.asgi:app``. Settings come from the environment."""

from services.case_api.main import create_app

app = create_app()
