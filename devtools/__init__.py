"""Local tooling, never deployed: the SQS emulator supervisor (emulator.py), the local
event-source-mapping poller (poller.py), the demo job site (demo/) and the `make run` supervisor
(dev.py, frontend_server.py).

Neither the Lambda zip nor the production web or API process imports this package; only the
dev-only commands (`queue up|down`, `worker`, `demo-site`, `dev`) import it, inside their
handlers. It is found on `sys.path` through the working directory: run `python -m ingest_app ...`
(and pytest) from the repository root.
"""
