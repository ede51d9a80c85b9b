# The integration's Airflow image: the official Airflow image (CeleryExecutor, FAB, postgres
# and redis providers included) plus our package at the versions of requirements.lock.
# Two targets: "production" (the default, last stage) holds the product only; "sandbox" adds
# the simulated trading partners for the compose "sandbox" profile (rehearsal, never production).
#
#   docker compose build            (or: docker build -t amazon-bluecherry-airflow .)
#   docker build --target sandbox -t amazon-bluecherry-sandbox .
#
# The base tag must match the apache-airflow version pinned in pyproject.toml and
# requirements.lock (tests/deploy/test_compose.py checks it).
FROM apache/airflow:3.3.2-python3.11 AS product

# Our source folder (the editable install writes its metadata there) and the folders the
# sandbox services keep their state in (an empty named volume takes the ownership of its
# mount point). Group 0 writable, because the containers run as ${AIRFLOW_UID}:0.
USER root
RUN mkdir -p /opt/amazon-bluecherry/plugins /data/mailbox /data/amazon \
 && chown -R airflow:0 /opt/amazon-bluecherry /data \
 && chmod -R g+rwX /opt/amazon-bluecherry /data
USER airflow

WORKDIR /opt/amazon-bluecherry

# Dependencies first, so this layer is rebuilt only when the lock changes. Pinning
# apache-airflow to the image's own version keeps pip from moving Airflow itself; pip check
# stops the build when the lock disagrees with a provider the base image bundles.
COPY --chown=airflow:0 requirements.lock ./
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r requirements.lock \
 && pip check

# The package itself, without dependencies (all pinned above). Editable, so that data files
# read from the source tree (mapping rules) are where the code expects them.
# README.m[d]: copied when present (pyproject names it; setuptools only warns without it).
COPY --chown=airflow:0 pyproject.toml README.m[d] ./
COPY --chown=airflow:0 plugins/amazon_bluecherry ./plugins/amazon_bluecherry
RUN pip install --no-cache-dir --no-deps -e . \
 && amazon-bluecherry --help > /dev/null

WORKDIR /opt/airflow

# The sandbox parties (their own distribution, sandbox/pyproject.toml; dependencies pinned
# in the lock above). Only the compose "sandbox" profile runs this target.
FROM product AS sandbox
WORKDIR /opt/amazon-bluecherry
COPY --chown=airflow:0 sandbox ./sandbox
RUN pip install --no-cache-dir --no-deps -e ./sandbox \
 && amazon-bluecherry sandbox --help > /dev/null
WORKDIR /opt/airflow

# What `docker build .` and the Airflow services build: the product without the sandbox.
FROM product AS production
