"""The ASGI entry point: ``uvicorn services.policy_api.asgi:app``. Settings come from the environment."""

from services.policy_api.main import create_app

app = create_app()
