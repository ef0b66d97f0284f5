-- One database per Pangolin app, each owned by its own login role (docker-compose.yml).
--
-- The postgres image runs this file once, when its data volume is empty
-- (/docker-entrypoint-initdb.d), as the superuser named by POSTGRES_USER. To rerun it, remove
-- the volume: `docker compose down -v`.
--
-- The passwords are development values for the one-host suite only; production databases
-- come from CloudNativePG with generated secrets (deploy/).
--
-- PostgreSQL 15+ makes the public schema of a new database owned by pg_database_owner, so each
-- owner role can create its tables there; no other role can connect to a database it does not
-- own.

CREATE ROLE gateway LOGIN PASSWORD 'gateway';
CREATE DATABASE gateway OWNER gateway;
REVOKE ALL ON DATABASE gateway FROM PUBLIC;

CREATE ROLE species_ref LOGIN PASSWORD 'species_ref';
CREATE DATABASE species_ref OWNER species_ref;
REVOKE ALL ON DATABASE species_ref FROM PUBLIC;

CREATE ROLE permit_verify LOGIN PASSWORD 'permit_verify';
CREATE DATABASE permit_verify OWNER permit_verify;
REVOKE ALL ON DATABASE permit_verify FROM PUBLIC;

CREATE ROLE risk_score LOGIN PASSWORD 'risk_score';
CREATE DATABASE risk_score OWNER risk_score;
REVOKE ALL ON DATABASE risk_score FROM PUBLIC;

CREATE ROLE intel_share LOGIN PASSWORD 'intel_share';
CREATE DATABASE intel_share OWNER intel_share;
REVOKE ALL ON DATABASE intel_share FROM PUBLIC;
