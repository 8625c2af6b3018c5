"""Errors of the run lifecycle; each message is safe to show to the user."""


class PipelineError(Exception):
    pass


class RunAlreadyActive(PipelineError):
    def __init__(self, run_id: int | None = None):
        super().__init__("An ingestion run is already in progress")
        self.run_id = run_id


class NoCompanies(PipelineError):
    def __init__(self, message: str = "Add or enable at least one company before starting a run"):
        super().__init__(message)


class RunNotFound(PipelineError, LookupError):
    def __init__(self, run_id: int):
        super().__init__(f"Run {run_id} not found")
        self.run_id = run_id


class RunNotActive(PipelineError):
    def __init__(self, run_id: int, status: str):
        super().__init__(f"Run {run_id} is {status}; only an active run can be reset")
        self.run_id = run_id
        self.status = status
