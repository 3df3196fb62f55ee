"""Fault drills (issue #9): real uvicorn processes, killed, stopped and restarted on purpose."""
