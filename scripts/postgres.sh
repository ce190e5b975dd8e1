#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the tests (Debian's `postgresql` package), listening on
# 127.0.0.1 only, trusting every local connection, with durability off: never for real data.
#
#   scripts/postgres.sh start DIR PORT   # prints postgresql://postgres@127.0.0.1:PORT/fleet_test
#   scripts/postgres.sh stop DIR         # idempotent; DIR stays (remove it yourself)
#
#   export N8N_FLEET_TEST_POSTGRES=$(scripts/postgres.sh start /tmp/fleet-pg 55433)
#
# Works as root (the server runs as user postgres, via runuser) and as the postgres user itself.
# Pick a PORT below 32768: the ephemeral range here starts there and a fixed port inside it can
# collide with an outgoing connection. Progress goes to stderr; stdout carries only the URL.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
database=fleet_test

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
}

# Runs a command as the postgres user (directly when we already are that user).
as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    "$@"
  elif [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    echo "error: run as root or as the postgres user" >&2
    exit 1
  fi
}

start() {
  local dir=$1 port=$2
  [ -x "$bin/initdb" ] || {
    echo "error: $bin/initdb not found; install PostgreSQL 15 (apt-get install postgresql)" >&2
    exit 1
  }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    # Throwaway settings: no fsync, no synchronous commit, no full-page writes.
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
-c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB" >&2 || {
      tail -n 20 "$dir/log" >&2
      exit 1
    }
  fi
  local exists
  exists=$(as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -Atq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$database'")
  if [ "$exists" != 1 ]; then
    as_postgres "$bin/createdb" -h "$dir" -p "$port" -U postgres "$database"
  fi
  echo "postgresql://postgres@127.0.0.1:$port/$database"
}

stop() {
  local dir=$1
  [ -f "$dir/data/PG_VERSION" ] || return 0
  if as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
  fi
}

case "${1:-}" in
  start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
