"""Contract stories on realistic closed-object contracts: a field renamed, an enum value added
upstream, a required field made optional, nullable added, a closed consumer receiving an extra
field, a tool's input schema gaining a required argument, nested arrays of objects."""

from __future__ import annotations

from . import (
    ANY,
    BOUND,
    ENUM,
    EXTRA,
    LENGTH,
    MISSING,
    NULL,
    PATTERN,
    REQ,
    TYPE,
    UNION,
    bad,
    edit,
    ok,
)

INTENTS = ["billing_question", "refund_request", "technical_issue"]

#: What a triage agent sends to a billing agent.
TRIAGE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "ticket_id": {"type": "string", "pattern": "^TCK-[0-9]{8}$"},
        "intent": {"enum": INTENTS},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "customer": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "tier": {"enum": ["free", "pro", "enterprise"]},
                "email": {"type": "string", "format": "email"},
            },
            "required": ["id", "tier"],
            "additionalProperties": False,
        },
        "messages": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {
                "type": "object",
                "properties": {
                    "role": {"enum": ["customer", "agent"]},
                    "text": {"type": "string", "maxLength": 4000},
                    "attachments": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "size": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
                            },
                            "required": ["name", "size"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["role", "text"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["ticket_id", "intent", "confidence", "customer", "messages"],
    "additionalProperties": False,
}

MESSAGE = {"role": "customer", "text": "hi"}
TICKET = {
    "ticket_id": "TCK-00000001",
    "intent": "billing_question",
    "confidence": 0.5,
    "customer": {"id": "c1", "tier": "pro"},
    "messages": [MESSAGE],
}

#: A search tool's input, v1 and v2 (v2 gains a required argument).
SEARCH_V1 = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 1},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50},
    },
    "required": ["query"],
    "additionalProperties": False,
}
SEARCH_V2_REQUIRED = edit(
    edit(SEARCH_V1, "/properties/region", {"enum": ["eu", "us"]}), "/required", ["query", "region"]
)
SEARCH_V2_OPTIONAL = edit(SEARCH_V1, "/properties/region", {"enum": ["eu", "us"]})

P = "/properties"
C = "/properties/customer/properties"
M = "/properties/messages/items/properties"
A = "/properties/messages/items/properties/attachments/items/properties"

PAIRS = [
    ok("story/identical-contract", TRIAGE, TRIAGE, TICKET),
    ok(
        "story/enum-value-removed-upstream",
        edit(TRIAGE, f"{P}/intent/enum", INTENTS[:2]),
        TRIAGE,
        TICKET,
    ),
    bad(
        "story/enum-value-added-upstream",
        edit(TRIAGE, f"{P}/intent/enum", [*INTENTS, "cancel_subscription"]),
        TRIAGE,
        {**TICKET, "intent": "cancel_subscription"},
        ENUM,
        "/intent",
    ),
    bad(
        "story/field-renamed",
        edit(
            edit(
                edit(TRIAGE, f"{P}/ticket_id", MISSING),
                f"{P}/ticketId",
                TRIAGE["properties"]["ticket_id"],
            ),  # type: ignore[index]
            "/required",
            ["ticketId", "intent", "confidence", "customer", "messages"],
        ),
        TRIAGE,
        {k: v for k, v in TICKET.items() if k != "ticket_id"} | {"ticketId": "TCK-00000001"},
        REQ + "|" + EXTRA,
        "|/ticketId",
    ),
    bad(
        "story/required-made-optional",
        edit(TRIAGE, "/required", ["ticket_id", "intent", "customer", "messages"]),
        TRIAGE,
        {k: v for k, v in TICKET.items() if k != "confidence"},
        REQ,
        "",
    ),
    ok(
        "story/optional-made-required-upstream",
        edit(TRIAGE, f"{C[: -len('/properties')]}/required", ["id", "tier", "email"]),
        TRIAGE,
        {**TICKET, "customer": {"id": "c1", "tier": "pro", "email": "a@b.c"}},
    ),
    bad(
        "story/nullable-added",
        edit(TRIAGE, f"{C}/email/type", ["string", "null"]),
        TRIAGE,
        {**TICKET, "customer": {"id": "c1", "tier": "pro", "email": None}},
        NULL,
        "/customer/email",
    ),
    bad(
        "story/nullable-added-via-any-of",
        edit(
            TRIAGE,
            f"{C}/email",
            {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]},
        ),
        TRIAGE,
        {**TICKET, "customer": {"id": "c1", "tier": "pro", "email": None}},
        NULL + "|" + UNION + "|" + TYPE,
        "/customer/email",
    ),
    bad(
        "story/closed-consumer-extra-optional-field",
        edit(TRIAGE, f"{P}/priority", {"enum": ["low", "high"]}),
        TRIAGE,
        {**TICKET, "priority": "high"},
        EXTRA,
        "|/priority",
    ),
    ok(
        "story/extra-field-consumer-already-accepts",
        edit(TRIAGE, f"{P}/priority", {"enum": ["low", "high"]}),
        edit(TRIAGE, f"{P}/priority", {"type": "string"}),
        {**TICKET, "priority": "low"},
    ),
    bad(
        "story/deep-enum-extended",
        edit(TRIAGE, f"{C}/tier/enum", ["free", "pro", "enterprise", "partner"]),
        TRIAGE,
        {**TICKET, "customer": {"id": "c1", "tier": "partner"}},
        ENUM,
        "/customer/tier",
    ),
    bad(
        "story/nested-array-object-bound",
        edit(TRIAGE, f"{A}/size/maximum", 50_000_000),
        TRIAGE,
        {**TICKET, "messages": [{**MESSAGE, "attachments": [{"name": "a", "size": 10_000_001}]}]},
        BOUND,
        "/messages/*/attachments/*/size",
    ),
    bad(
        "story/nested-array-max-items",
        edit(TRIAGE, f"{P}/messages/maxItems", 100),
        TRIAGE,
        {**TICKET, "messages": [MESSAGE] * 51},
        BOUND + "|length-relaxed",
        "/messages",
    ),
    bad(
        "story/message-text-longer",
        edit(TRIAGE, f"{M}/text/maxLength", 8000),
        TRIAGE,
        {**TICKET, "messages": [{"role": "agent", "text": "x" * 4001}]},
        LENGTH,
        "/messages/*/text",
    ),
    bad(
        "story/ticket-pattern-widened",
        edit(TRIAGE, f"{P}/ticket_id/pattern", "^TCK-[0-9]+$"),
        TRIAGE,
        {**TICKET, "ticket_id": "TCK-1"},
        PATTERN,
        "/ticket_id",
    ),
    ok(
        "story/ticket-pattern-narrowed",
        edit(TRIAGE, f"{P}/ticket_id/pattern", "^TCK-0[0-9]{7}$"),
        TRIAGE,
        TICKET,
    ),
    bad(
        "story/confidence-as-percent",
        edit(TRIAGE, f"{P}/confidence/maximum", 100),
        TRIAGE,
        {**TICKET, "confidence": 2},
        BOUND,
        "/confidence",
    ),
    bad(
        "story/confidence-type-changed",
        edit(TRIAGE, f"{P}/confidence", {"type": "string"}),
        TRIAGE,
        {**TICKET, "confidence": ""},
        TYPE,
        "/confidence",
    ),
    ok(
        "story/attachments-closed-upstream",
        edit(TRIAGE, f"{M}/attachments/maxItems", 3),
        TRIAGE,
        TICKET,
    ),
    bad(
        "story/attachment-extra-field",
        edit(TRIAGE, f"{A}/mime", {"type": "string"}),
        TRIAGE,
        {
            **TICKET,
            "messages": [{**MESSAGE, "attachments": [{"name": "a", "size": 1, "mime": ""}]}],
        },
        EXTRA,
        "/messages/*/attachments/*|/messages/*/attachments/*/mime",
    ),
    ok(
        "story/consumer-opens-everything",
        TRIAGE,
        {"type": "object", "required": ["ticket_id", "intent"]},
        TICKET,
    ),
    bad(
        "story/consumer-needs-field-producer-lacks",
        TRIAGE,
        edit(
            edit(TRIAGE, f"{P}/language", {"type": "string"}),
            "/required",
            [*TRIAGE["required"], "language"],
        ),  # type: ignore[misc]
        TICKET,
        REQ,
        "",
    ),
    # ------------------------------------------------------------------ tools
    bad(
        "tool/input-gains-required-argument",
        SEARCH_V1,
        SEARCH_V2_REQUIRED,
        {"query": "x"},
        REQ,
        "",
    ),
    ok(
        "tool/input-gains-optional-argument",
        SEARCH_V1,
        SEARCH_V2_OPTIONAL,
        {"query": "x", "limit": 5},
    ),
    bad(
        "tool/input-drops-argument",
        SEARCH_V2_OPTIONAL,
        SEARCH_V1,
        {"query": "x", "region": "eu"},
        EXTRA,
        "|/region",
    ),
    bad(
        "tool/input-limit-narrowed",
        SEARCH_V1,
        edit(SEARCH_V1, "/properties/limit/maximum", 20),
        {"query": "x", "limit": 21},
        BOUND,
        "/limit",
    ),
    ok(
        "tool/agent-call-is-narrower",
        edit(edit(SEARCH_V1, "/required", ["query", "limit"]), "/properties/limit/maximum", 10),
        SEARCH_V1,
        {"query": "x", "limit": 10},
    ),
    ok(
        "tool/result-list-of-hits",
        {
            "type": "object",
            "properties": {
                "hits": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "url": {"type": "string", "pattern": "^https://"},
                            "score": {"type": "number", "minimum": 0, "maximum": 1},
                        },
                        "required": ["url", "score"],
                        "additionalProperties": False,
                    },
                    "maxItems": 10,
                }
            },
            "required": ["hits"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "hits": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"url": {"type": "string"}, "score": {"type": "number"}},
                        "required": ["url"],
                    },
                }
            },
            "required": ["hits"],
        },
        {"hits": [{"url": "https://x", "score": 0.3}]},
    ),
    bad(
        "tool/result-hit-score-unbounded",
        {
            "type": "object",
            "properties": {
                "hits": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"score": {"type": "number"}}},
                }
            },
        },
        {
            "type": "object",
            "properties": {
                "hits": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"score": {"type": "number", "maximum": 1}},
                    },
                }
            },
        },
        {"hits": [{"score": 2}]},
        BOUND,
        "/hits/*/score",
    ),
    bad(
        "tool/result-union-new-shape",
        {
            "oneOf": [
                {"type": "object", "required": ["hits"]},
                {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
            ]
        },
        {"type": "object", "required": ["hits"]},
        {"error": ""},
        REQ + "|" + UNION + "|" + ANY,
        "",
    ),
]
