"""An emulator of CGS BlueCherry's domain, for tests, the demo and rehearsals (not for production).

Emulator-defined; map to your BlueCherry installation. ``backend`` holds the state and
rules, ``app`` the HTTP face, ``files`` the import/export folder face, ``server`` starts it
(``start_emulator``), ``catalogue`` is the deterministic seed and ``mappings`` writes the
product's mapping files from it. See docs/bluecherry.md.
"""
