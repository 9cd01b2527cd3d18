"""Triage hands billing questions to billing and refund requests (typed) to refunds.

Building these agents calls no model and needs no API key; `teamrel import openai-agents
support_team.team:triage` reads them.
"""

from __future__ import annotations

from typing import Literal

from agents import Agent, RunContextWrapper, function_tool, handoff
from pydantic import BaseModel, Field


class Ticket(BaseModel):
    """What triage makes of a customer's message (and what refunds is handed)."""

    customer_id: str
    summary: str
    category: Literal["billing", "refund", "other"]
    order_id: str | None = None


class BillingAnswer(BaseModel):
    answer: str
    invoice_id: str | None = None


class RefundDecision(BaseModel):
    approved: bool
    amount_cents: int = Field(ge=0)
    reason: str


@function_tool
def lookup_invoice(invoice_id: str) -> str:
    """Find an invoice by its id."""
    return f"invoice {invoice_id}: paid"


@function_tool
def issue_refund(order_id: str, amount_cents: int, reason: str = "customer request") -> str:
    """Refund (part of) an order."""
    return f"refunded {amount_cents} on {order_id} ({reason})"


async def _log_refund(ctx: RunContextWrapper[None], ticket: Ticket) -> None:
    """Called by the SDK with the ticket triage hands over."""


billing = Agent(
    name="Billing",
    handoff_description="Answers questions about invoices and payments.",
    instructions="You answer billing questions. Look invoices up before answering.",
    model="gpt-4o-2024-08-06",
    tools=[lookup_invoice],
    output_type=BillingAnswer,
)

refunds = Agent(
    name="Refunds",
    handoff_description="Decides refund requests.",
    instructions="You decide refunds. Refund at most the order's amount.",
    model="gpt-4o-2024-08-06",
    tools=[issue_refund],
    output_type=RefundDecision,
)

triage = Agent(
    name="Triage Agent",
    instructions="Classify the customer's message into a ticket, then hand it off.",
    model="gpt-4o-2024-08-06",
    output_type=Ticket,
    handoffs=[billing, handoff(refunds, input_type=Ticket, on_handoff=_log_refund)],
)

# a refund that turns out to be a billing question goes back to triage
refunds.handoffs.append(triage)
