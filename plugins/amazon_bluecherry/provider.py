"""What the package offers Airflow as a provider (entry point ``apache_airflow_provider``):
the BlueCherry connection type (with its form and Test button). The exceptions console is a
plugin of its own entry point (``airflow.plugins``): Airflow loads providers' plugins only
with ``lazy_load_providers = False``. Read by Airflow's providers manager; imports nothing heavy."""

from __future__ import annotations


def get_provider_info() -> dict:
    return {
        "package-name": "amazon-bluecherry",
        "name": "Amazon Vendor Central <-> CGS BlueCherry",
        "description": "Integration layer between Amazon Vendor Central (X12 EDI) and CGS BlueCherry.",
        "connection-types": [
            {
                "hook-class-name": "amazon_bluecherry.hooks.bluecherry.BlueCherryHook",
                "connection-type": "bluecherry",
                "hook-name": "CGS BlueCherry",
                # The connection form (Airflow 3.3 reads it from here, without importing the hook).
                "ui-field-behaviour": {
                    "hidden-fields": ["login"],
                    "relabeling": {"host": "BlueCherry host (or URL)", "password": "API key",
                                   "schema": "Scheme (https)"},
                    "placeholders": {
                        "host": "bluecherry.example.com",
                        "schema": "https",
                        "port": "443",
                        "password": "the CGS API key of this site",
                        "extra": '{"adapter": "rest", "timeout": 30, "max_retries": 5} or {"adapter": "flatfile", '
                                 '"import_dir": "/mnt/bluecherry/import", "export_dir": "/mnt/bluecherry/export"}',
                    },
                },
            },
        ],
        "versions": ["0.1.0"],
    }
