"""Request parameters as the flat mapping the engine's parsers take."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from portal.plans import PlanError

# Parameters that choose how an answer is presented, not what is asked.
PRESENTATION = frozenset({"lang"})


def flat_params(args: MultiDict) -> dict[str, str]:
    """One value per parameter; a parameter given twice is an error, never a silent pick."""
    params = {}
    for name in args:
        if name in PRESENTATION:
            continue
        values = args.getlist(name)
        if len(values) > 1:
            raise PlanError(
                "duplicate_parameter",
                "Parameter '{value}' is given more than once",
                name,
                value=name,
            )
        params[name] = values[0]
    return params
