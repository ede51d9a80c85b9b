"""BlueCherry side: one gateway interface, a REST adapter and a flat-file adapter.

Emulator-defined; map to your BlueCherry installation (see docs/bluecherry.md)::

    from amazon_bluecherry.bluecherry.gateway import BlueCherryGateway, GatewayError
    from amazon_bluecherry.bluecherry.rest import RestGateway
    from amazon_bluecherry.bluecherry.flatfile import FlatFileGateway

In Airflow, build the gateway from a connection with
``amazon_bluecherry.hooks.bluecherry.BlueCherryHook``.
"""
