# shellcheck shell=bash
# The secrets file and the environment file (stack.env) the services, settlementctl and the
# tests read. The topology (single.sh, cluster.sh) supplies topology_env: where the engines are.

secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Generated at first start, one per line, kept in $STACK_DIR/secrets.env (0600 in a 0700
# folder). PG_PASSWORD is the PostgreSQL superuser's (`settlement`, also stack.sh's own psql);
# KAFKA_<PRINCIPAL>_PASSWORD are the SCRAM-SHA-512 passwords the broker is formatted with
# (admin, ingest, aggregate, bench, broker) and KAFKA_CONTROLLER_PASSWORD the PLAIN password
# of the KRaft controller listener. METRICS_SCRAPE_TOKEN is the bearer token of the API's
# GET /metrics/banks (the API and Prometheus read it); SECRETS_ENCRYPTION_KEY encrypts bank
# HMAC secrets at rest (settlement_core.secret_box). A secrets file from an older checkout gains the missing
# lines; existing ones are never changed (rotation: docs/security/kafka-and-local.md).
# TLOG_SALT_KEY (32 bytes, the HMAC key of the receipts' leaf salts) and TLOG_SIGNING_KEY (the
# log's Ed25519 key, `PRIVATE+KEY+<origin>+...`, made by the project's own generator in the
# virtualenv) go to the integrator and to ingest, which signs receipt promises, only
# (docs/receipts.md): the API reads the public keys from the log's tables.
# STACK_INSTANCE is no secret: it names this state folder's lifetime, so that PostgreSQL data
# kept outside the folder (pg_home) is known to belong to it (pg_drop_orphan_home).
SECRET_NAMES="PG_PASSWORD REDIS_PASSWORD METRICS_SCRAPE_TOKEN SECRETS_ENCRYPTION_KEY KAFKA_ADMIN_PASSWORD KAFKA_INGEST_PASSWORD KAFKA_AGGREGATE_PASSWORD KAFKA_BENCH_PASSWORD KAFKA_BROKER_PASSWORD KAFKA_CONTROLLER_PASSWORD"

# The state folder (0700) with its run and logs folders, the secrets (0600) and stack.env
# (0600: it carries the admin and PostgreSQL superuser passwords), all loaded into this shell.
ensure_env() {
  mkdir -p "$STACK_DIR"
  chmod 700 "$STACK_DIR"
  mkdir -p "$RUN" "$LOGS"
  local secrets="$STACK_DIR/secrets.env" upgrading=0
  # A secrets file from before STACK_INSTANCE: the PostgreSQL data it found is its own.
  if [ -f "$secrets" ] && grep -q "^PG_PASSWORD=" "$secrets" && ! grep -q "^STACK_INSTANCE=" "$secrets"; then
    upgrading=1
  fi
  (
    umask 077
    touch "$secrets"
    grep -q "^STACK_INSTANCE=" "$secrets" || echo "STACK_INSTANCE=$(secret)" >> "$secrets"
    for name in $SECRET_NAMES; do
      grep -q "^$name=" "$secrets" || echo "$name=$(secret)" >> "$secrets"
    done
    grep -q "^TLOG_SALT_KEY=" "$secrets" || echo "TLOG_SALT_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >> "$secrets"
    if ! grep -q "^TLOG_SIGNING_KEY=" "$secrets" && [ -x "$VENV/bin/python" ]; then
      echo "TLOG_SIGNING_KEY=$(tlog_signing_key)" >> "$secrets"
    fi
  )
  chmod 600 "$secrets"
  load_secrets
  [ "$upgrading" = 0 ] || pg_claim_home
  umask 077
  { topology_env; common_env; } > "$ENV_FILE"
  chmod 600 "$ENV_FILE"
  umask 022
}

load_secrets() {
  # shellcheck disable=SC1091
  [ ! -f "$STACK_DIR/secrets.env" ] || . "$STACK_DIR/secrets.env"
}

tlog_signing_key() { # a new log signing key named $TLOG_ORIGIN, in its one-line secret form
  TLOG_ORIGIN="$TLOG_ORIGIN" "$VENV/bin/python" -c \
    'import os; from settlement_core.tlog.keys import SigningKey; print(SigningKey.generate(os.environ["TLOG_ORIGIN"]).encode())' \
    || die "could not generate the log signing key (run 'make install' first)"
}

kafka_password_of() { # principal -> its password from the secrets file
  local var; var="KAFKA_$(echo "$1" | tr '[:lower:]' '[:upper:]')_PASSWORD"; echo "${!var}"
}

# What the services and tests read in both topologies: files, ports, where things are, and
# the Kafka `admin` principal for settlementctl and the tests. svc_start replaces the Kafka
# credentials with the service's own principal (or none) before it starts a service.
common_env() {
  cat <<ENV
KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT
KAFKA_SASL_MECHANISM=SCRAM-SHA-512
KAFKA_USERNAME=admin
KAFKA_PASSWORD=$KAFKA_ADMIN_PASSWORD
TARGETS_FILE=$ROOT/seeds/targets.yaml
FX_RATES_FILE=$ROOT/seeds/fx_rates.csv
INGEST_PORT=$INGEST_PORT
API_PORT=$API_PORT
AGGREGATE_PORT=$AGGREGATE_PORT
PROM_PORT=$PROM_PORT
KAFKA_LIBS=$KAFKA_LIBS
STACK_DIR=$STACK_DIR
SECRETS_ENCRYPTION_KEY=$SECRETS_ENCRYPTION_KEY
ENV
}
