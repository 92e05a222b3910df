"""Providers: vendor adapters, simulators, and the console pages that configure them."""
