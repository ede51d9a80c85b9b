#!/usr/bin/env bash
# Create the integration store's role and database next to Airflow's metadata database.
#
# The postgres image runs this once, when its data volume is first initialised
# (/docker-entrypoint-initdb.d). It is idempotent, so on an existing volume run it by hand:
#   docker compose exec postgres bash /docker-entrypoint-initdb.d/10-integration-db.sh
# The tables themselves are created by `amazon-bluecherry db upgrade` (airflow-init).
set -euo pipefail

: "${AB_STORE_DB_PASSWORD:?AB_STORE_DB_PASSWORD must be set (see .env.example)}"
export AB_STORE_DB_USER="${AB_STORE_DB_USER:-integration}"
export AB_STORE_DB_NAME="${AB_STORE_DB_NAME:-integration}"

# The values reach psql through the environment (\getenv, psql 15+), never the command
# line; :"name" quotes an identifier, :'name' a literal, and \gexec runs the generated
# statement only when the object is missing.
psql -v ON_ERROR_STOP=1 --no-psqlrc \
     --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" <<'SQL'
\getenv store_user AB_STORE_DB_USER
\getenv store_db AB_STORE_DB_NAME
\getenv store_password AB_STORE_DB_PASSWORD
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'store_user', :'store_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'store_user')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'store_db', :'store_user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'store_db')\gexec
-- Only its owner (and superusers) may connect: the Airflow role has no business here.
REVOKE CONNECT ON DATABASE :"store_db" FROM PUBLIC;
SQL
echo "integration store: role ${AB_STORE_DB_USER}, database ${AB_STORE_DB_NAME} ready"
