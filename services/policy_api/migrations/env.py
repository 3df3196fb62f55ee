from services.policy_api.domain.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
