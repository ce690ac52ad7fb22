#!/usr/bin/env bash
# Project-local PostGIS cluster: data in .local/pgdata (git-ignored), listening on 127.0.0.1 only,
# on its own port (first free from 54329, remembered in .local/db_port), so it never collides with
# a system server. Usage: localdb.sh start|stop|status. Does nothing when DATABASE_URL is set.
# Roles: onemap (owner, superuser of this cluster) and onemap_app (what the app logs in as).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOCAL="${ONEMAP_LOCAL_DIR:-$ROOT/.local}"
DATA="$LOCAL/pgdata"
PORT_FILE="$LOCAL/db_port"
PGV=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
PGBIN="/usr/lib/postgresql/$PGV/bin"
cmd="${1:-start}"

if [ -n "${DATABASE_URL:-}" ]; then
  echo "localdb: DATABASE_URL is set; not managing a local cluster"
  exit 0
fi
[ -x "$PGBIN/initdb" ] || { echo "localdb: PostgreSQL server binaries not found under /usr/lib/postgresql (run 'make deps')" >&2; exit 1; }

# initdb and postgres refuse to run as root: run them as the 'postgres' system user then.
as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

running() {
  [ -f "$DATA/PG_VERSION" ] && as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

case "$cmd" in
  start)
    mkdir -p "$LOCAL"
    if [ ! -f "$DATA/PG_VERSION" ]; then
      port=${ONEMAP_DB_PORT:-54329}
      while port_in_use "$port"; do port=$((port + 1)); done
      echo "$port" > "$PORT_FILE"
      mkdir -p "$DATA"
      [ "$(id -u)" = "0" ] && chown postgres: "$DATA"
      chmod 700 "$DATA"
      echo "localdb: initialising cluster in $DATA (port $port)"
      as_owner "$PGBIN/initdb" -D "$DATA" -U onemap --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
      cat >> "$DATA/postgresql.conf" <<CONF
# OneMap local cluster
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DATA'
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
max_connections = 50
CONF
    fi
    port=$(cat "$PORT_FILE")
    if ! running; then
      if port_in_use "$port"; then
        echo "localdb: port $port is taken by another server; stop it or remove .local/ to re-initialise" >&2
        exit 1
      fi
      as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start >/dev/null
    fi
    psql_() { "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U onemap -X -q -t "$@"; }
    if ! psql_ -d postgres -c "select 1 from pg_database where datname='onemap'" | grep -q 1; then
      "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U onemap onemap
    fi
    psql_ -d onemap -c "create extension if not exists postgis" >/dev/null
    # Two roles (README "Database roles"): 'onemap' (initdb's superuser) owns the schema and runs
    # migrations and the tests; 'onemap_app' is what the running app logs in as. It owns nothing and
    # may not rewrite the audit tables; its grants are applied by every migrate (onemap/dbroles.py).
    # Created here on new and existing clusters alike; ALTER re-asserts its limits on every start.
    psql_ -d postgres -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'onemap_app') THEN CREATE ROLE onemap_app LOGIN; END IF;
      END \$\$" >/dev/null
    psql_ -d postgres -c "ALTER ROLE onemap_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT" >/dev/null
    echo "localdb: PostGIS running on 127.0.0.1:$port (data $DATA)"
    ;;
  stop)
    if running; then as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; echo "localdb: stopped"; else echo "localdb: not running"; fi
    ;;
  status)
    if running; then echo "localdb: running on 127.0.0.1:$(cat "$PORT_FILE")"; else echo "localdb: not running"; exit 3; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2; exit 2;;
esac
