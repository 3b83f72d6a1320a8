"""The monthly surveys: rounds through the outbox, and how answers, rates and rounds are
worded and drawn."""
