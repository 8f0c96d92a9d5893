"""``flask quote`` and ``flask sla`` print the API's JSON and fail with the API's message."""

from __future__ import annotations

import json

import pytest


def test_flask_quote_prints_the_same_json_as_the_api(client, runner):
    result = runner.invoke(
        args=["quote", "--plan", "optima", "--term", "7m", "--start", "2027-01-15", "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    api = client.get("/api/v1/quote?plan=optima&term=7m&start=2027-01-15&lang=en").json
    assert json.loads(result.output) == api
    assert api["total"] == "40740.00"


def test_flask_quote_takes_units_and_billing(make_app):
    runner = make_app(PORTAL_CATALOG="iiko").test_cli_runner()
    result = runner.invoke(
        args=[
            "quote",
            "--plan",
            "contract",
            "--term",
            "12m",
            "--billing",
            "year",
            "--qty",
            "workstation=3",
            "--qty",
            "fiscal-register=2",
            "--start",
            "2027-01-01",
        ]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    # (3 × 998 + 2 × 263) × 12 = 42240, less 10% for a year paid at once.
    assert body["total"] == "38016.00"
    assert body["installments"] == [{"due": "2027-01-01", "amount": "38016.00"}]


def test_flask_quote_prices_a_service(runner):
    result = runner.invoke(args=["quote", "--service", "hours", "--hours", "6"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] == "8400.00"


def test_flask_sla_prints_the_same_json_as_the_api(client, runner):
    opened = "2027-03-26T16:00:00+02:00"
    result = runner.invoke(
        args=["sla", "--plan", "premium", "--target", "reaction", "--opened", opened]
    )
    assert result.exit_code == 0, result.output
    api = client.get(
        "/api/v1/sla", query_string={"plan": "premium", "target": "reaction", "opened": opened}
    ).json
    body = json.loads(result.output)
    assert body["due"] == api["due"] == "2027-03-29T11:00:00+03:00"


CLI_ERRORS = [
    (["quote", "--plan", "optima", "--term", "13m"], "13m: months must be 1..12 (term)"),
    (["quote", "--plan", "gold", "--term", "1m"], "Unknown plan 'gold'"),
    (["quote", "--plan", "optima", "--term", "1m", "--qty", "workstation"], "is not UNIT=N"),
    (["quote", "--plan", "optima", "--term", "1m", "--start", "2027-13-01"], "is not a date"),
    (["sla", "--plan", "premium", "--target", "reaction", "--opened", "noon"], "is not a time"),
    (["sla", "--plan", "premium"], "Give the target parameter"),
]


@pytest.mark.parametrize(("args", "message"), CLI_ERRORS, ids=[" ".join(a) for a, _ in CLI_ERRORS])
def test_a_cli_mistake_exits_non_zero_with_the_message(runner, args, message):
    result = runner.invoke(args=[*args, "--lang", "en"])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["quote", "--plan", "optima", "--term", "7m"], id="a quote"),
        pytest.param(["billing", "remind"], id="the renewal reminders"),
        pytest.param(["catalog", "versions"], id="the catalog versions"),
    ],
)
def test_a_command_before_the_database_is_migrated_says_so_without_a_traceback(tmp_path, args):
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert "the database is not ready" in result.output
    assert "flask --app app db upgrade" in result.output
    assert "Traceback" not in result.output
