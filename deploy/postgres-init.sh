#!/bin/sh
# PostgreSQL's first start (docker-entrypoint-initdb.d) or by hand as a superuser:
#   DB_OWNER_PASSWORD=... DB_APP_PASSWORD=... PGHOST=... PGUSER=postgres sh deploy/postgres-init.sh
# One database per service, each with two roles:
#   <service>_owner  owns the database and its schema: migrations run as it (civicsocial migrate);
#   <service>_app    what the service runs as: read and write rows, nothing else (no DDL, no
#                    TRIGGER, no TRUNCATE), so a compromised service cannot disable case_api's
#                    append-only audit trigger or empty a table with TRUNCATE.
# Passwords are passed as psql variables (quoted by psql), so any character works.
set -eu
: "${DB_OWNER_PASSWORD:?set DB_OWNER_PASSWORD}"
: "${DB_APP_PASSWORD:?set DB_APP_PASSWORD}"
for svc in ${CIVICSOCIAL_DATABASES:-policy_api feedback_api case_api}; do
  psql -v ON_ERROR_STOP=1 -q --dbname "${PGDATABASE:-postgres}" \
       -v svc="$svc" -v owner="${svc}_owner" -v app="${svc}_app" \
       -v owner_pw="$DB_OWNER_PASSWORD" -v app_pw="$DB_APP_PASSWORD" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_pw';
CREATE ROLE :"app" LOGIN PASSWORD :'app_pw';
CREATE DATABASE :"svc" OWNER :"owner";
REVOKE ALL ON DATABASE :"svc" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"svc" TO :"app";
\connect :"svc"
REVOKE ALL ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO :"owner";
GRANT USAGE ON SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO :"app";
SQL
done
