"""Amazon Vendor Central <-> CGS BlueCherry integration layer.

Layers (each knows only the ones below it): operators/hooks -> flows -> edi, bluecherry,
amazon, quality -> store. ``flows``, ``edi`` and ``store`` never import Airflow.
"""

__version__ = "0.1.0"
