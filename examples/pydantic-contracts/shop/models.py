"""What the pricing agent produces and what the checkout agent accepts.

`teamrel contracts sync` writes each model's JSON Schema to contracts/, in the direction its
slot in teamrel.yaml faces: the pricer's output is what `Quote` *serialises*, the checkout's
input is what `Order` *validates*.
"""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class QuoteRequest(BaseModel):
    """What the pricer is asked."""

    customer_id: str = Field(min_length=1)
    skus: list[str] = Field(min_length=1, max_length=50)


class LineItem(BaseModel):
    sku: str
    quantity: int = Field(ge=1)
    unit_price: Decimal  # serialised as a string ("12.50"): exact money


class Quote(BaseModel):
    """What the pricer produces (`model_dump(mode="json")`)."""

    quote_id: str
    currency: Literal["EUR", "USD"]
    items: list[LineItem]


class Order(BaseModel):
    """What the checkout accepts: exactly these keys, nothing else."""

    model_config = ConfigDict(extra="forbid")

    quote_id: str
    currency: Literal["EUR", "USD"]
    items: list[LineItem]
