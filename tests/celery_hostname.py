"""``[core] hostname_callable`` for the Celery workers of tests/dags/test_celery_scale_out.py:
the name each worker was started with. Kept apart from the test module, whose imports (the
test session's conftest) must not run inside a worker."""

import os


def worker_name() -> str:
    return os.environ["AB_TEST_WORKER_NAME"]
