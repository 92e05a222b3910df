"""Operator alerts: a provider's balance, the failure rate, daily and monthly volume caps and
a stopped worker, shown on the dashboard and sent as webhook events once per crossing."""
