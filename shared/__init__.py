"""The shared kernel: wire schemas and the small pieces every service uses.

Nothing service-specific lives here. Modules that are imported by domain code
(``errors``, ``timeutil``, ``ids``, ``outbox``) do not import FastAPI.
"""
