"""Events for integrators: a durable outbox and signed webhooks (``/webhook-endpoints``).

A change that integrators are told about (a message's status, a verification, a template
review, a provider's health) writes one ``event_outbox`` row in the same transaction as the
change itself (``outbox.py`` builds the rows; the code making the change writes them). The
background worker fans each event out into one delivery per subscribed endpoint and posts it,
signed, with retries (``delivery.py``).
"""
