"""A real HTTP, Stripe-compatible server for the tests: localstripe plus Checkout Sessions.

- ``python -m tests.stripe_server`` (``__main__``) runs it on 127.0.0.1 with its
  state in a folder of the caller's choosing;
- ``checkout`` adds Checkout Sessions, the test controls and a hosted payment page;
- ``fixtures`` is the pytest plugin whose ``stripe_server`` fixture runs it.

This file imports nothing: the pytest process loads only ``fixtures`` (standard
library), never localstripe or aiohttp, which run in the server's own process.
"""
