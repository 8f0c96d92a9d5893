"""What staff see on a ticket's page besides the client's view: their controls."""

from __future__ import annotations

from wtforms.fields.choices import SelectChoice

from portal.catalog.wording import text
from portal.extensions import db
from portal.models import Ticket
from portal.plans import Catalog
from portal.plans.sla import claimable_targets
from portal.plans.tickets import defect_target
from portal.tickets import queries
from portal.tickets.forms import AssigneeForm, FixDateForm, PlanForm, StatusForm
from portal.tickets.presentation import STAFF_STATUS_LABELS, target_name
from portal.tickets.workflow import NEXT_STATUSES


def staff_context(ticket: Ticket, catalog: Catalog) -> dict:
    from flask_babel import gettext as _

    status_form = StatusForm(formdata=None, status=ticket.status)
    status_form.status.choices = [
        SelectChoice(code, STAFF_STATUS_LABELS[code])
        for code in (ticket.status, *NEXT_STATUSES[ticket.status])
    ]
    assignee_form = AssigneeForm(
        formdata=None, assignee=str(ticket.assignee_id) if ticket.assignee_id else ""
    )
    assignee_form.assignee.choices = [SelectChoice("", _("Nobody"))] + [
        SelectChoice(str(member.id), member.name) for member in queries.staff_members(db.session)
    ]
    plan_form = PlanForm(formdata=None, plan=ticket.plan or "", target=ticket.claimed_target or "")
    plan_form.plan.choices = [SelectChoice("", _("No plan: no SLA"))] + [
        SelectChoice(code, text(plan.name, catalog)) for code, plan in catalog.plans.items()
    ]
    targets = {code for plan in catalog.plans for code in claimable_targets(catalog, plan)}
    plan_form.target.choices = [SelectChoice("", "—")] + [
        SelectChoice(code, target_name(catalog, code))
        for code in catalog.sla_targets
        if code in targets
    ]
    return {
        "status_form": status_form,
        "assignee_form": assignee_form,
        "plan_form": plan_form,
        "fix_form": FixDateForm(
            formdata=None, fix_date=ticket.fix_date.isoformat() if ticket.fix_date else ""
        ),
        "defect_target": defect_target(catalog, ticket.plan) if ticket.plan else None,
    }
