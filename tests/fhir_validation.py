"""Checks a resource against fhir.resources' R4B models, plus what those models do not check themselves.

The models check structure, types and cardinality; they do not hold codes to their required value sets, nor
the Appointment's invariants, so those are checked here from the models' own `enum_values`.
"""
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.operationoutcome import OperationOutcome
from pydantic import BaseModel

MODELS = {"Appointment": Appointment, "OperationOutcome": OperationOutcome}


def valid(resource):
    """The resource as its R4B model; AssertionError (or pydantic's ValidationError) when it is not valid R4."""
    model = MODELS[resource["resourceType"]].model_validate(resource)
    _codes_in_value_sets(model, resource["resourceType"])
    if resource["resourceType"] == "Appointment":
        # app-3: only proposed or cancelled appointments can be missing start/end; app-4: both or neither.
        assert ("start" in resource) == ("end" in resource), "app-4"
        assert "start" in resource or resource["status"] in ("proposed", "cancelled"), "app-3"
        references = {p.get("actor", {}).get("reference") for p in resource["participant"]}
        for contained in resource.get("contained", ()):  # dom-3: each contained resource is referenced
            assert f'#{contained["id"]}' in references, "dom-3"
    return model


def _codes_in_value_sets(model, path):
    for name, info in type(model).model_fields.items():
        value = getattr(model, name, None)
        if value is None:
            continue
        allowed = (info.json_schema_extra or {}).get("enum_values") if isinstance(info.json_schema_extra, dict) else None
        for item in value if isinstance(value, list) else [value]:
            if allowed:
                assert item in allowed, f"{path}.{name}: {item!r} is not one of {allowed}"
            if isinstance(item, BaseModel):
                _codes_in_value_sets(item, f"{path}.{name}")
