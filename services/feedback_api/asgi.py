"""The ASGI entry point: ``uvicorn services.feedback_api.asgi:app``. Settings come from the environment."""

from services.feedback_api.main import create_app

app = create_app()
