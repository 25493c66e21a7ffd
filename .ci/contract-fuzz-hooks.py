"""Schemathesis hooks of .ci/contract-fuzz.

A request that schemas/openapi.yaml allows must not be refused as invalid (400). Three of the
server's rules are about data that only exists at run time, which no JSON Schema can state; a 400
that only they explain is not a contract failure:

- a new account's parent_id must be the id of an existing account of the right kind (the
  partner's own id for a customer);
- a service type must be in the catalog (`GET /v1/service-types`);
- a service's settings must satisfy that type's settings schema from the catalog.

Only a 400 whose every reason is one of these is dropped (schemathesis counts it as dropped by
`filter_failure` in its summary); any other field problem in the same answer still fails.
"""

import json

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData


def _problem(response):
    try:
        return json.loads(response.content)
    except (TypeError, ValueError):
        return None


def _pointers(problem):
    return [e.get("pointer", "") for e in problem.get("errors") or []]


def _explained_by_runtime_data(operation, problem):
    code = problem.get("code")
    pointers = _pointers(problem)
    if operation == "POST /v1/accounts":
        return code == "validation-failed" and pointers and all(p == "/parent_id" for p in pointers)
    if operation in ("PUT /v1/accounts/{id}/services/{type}", "DELETE /v1/accounts/{id}/services/{type}"):
        if code == "unknown-service-type":
            return True
        return (
            code == "validation-failed"
            and pointers
            and all(p == "/settings" or p.startswith("/settings/") for p in pointers)
        )
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure but a schema-valid request refused for run-time data only."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return True
    problem = _problem(response)
    if not isinstance(problem, dict):
        return True
    operation = f"{case.method.upper()} {case.operation.path}"
    return not _explained_by_runtime_data(operation, problem)
