"""Thin views: parse the query, ask the engine, answer JSON."""

from __future__ import annotations

from flask import jsonify, request

from portal.api import bp
from portal.api.documents import catalog_document, quote_document, sla_document
from portal.api.params import flat_params
from portal.catalog.current import current_catalog
from portal.clock import now, today_in
from portal.plans import due_at, parse_quote_request, quote
from portal.plans.requests import parse_sla_request


@bp.get("/catalog")
def catalog():
    return jsonify(catalog_document(current_catalog()))


@bp.get("/quote")
def quote_view():
    catalog = current_catalog()
    today = today_in(catalog.timezone)
    priced = quote(catalog, parse_quote_request(catalog, flat_params(request.args), today), today)
    return jsonify(quote_document(priced, catalog))


@bp.get("/sla")
def sla_view():
    catalog = current_catalog()
    asked = parse_sla_request(catalog, flat_params(request.args), now())
    return jsonify(sla_document(due_at(catalog, asked.plan, asked.target, asked.opened), catalog))
