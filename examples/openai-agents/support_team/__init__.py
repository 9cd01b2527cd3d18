"""A small customer-support team built with the OpenAI Agents SDK (teamrel's example)."""
