"""The exceptions console: a page of the Airflow UI (an Airflow 3 plugin, FastAPI app plus
a navigation entry) where the owner teams see, filter, acknowledge and resolve exceptions,
re-send or replay documents, read runbooks, walk data paths and read the daily reports."""
