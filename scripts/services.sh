#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on this machine, starting them when they are
# installed but stopped. Sourced by scripts/test.sh and .ci/run; sets DATABASE_URL and
# REDIS_URL defaults for the tests.
set -u

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for v in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1 || true
    done
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || echo "warning: PostgreSQL does not answer on 127.0.0.1:5432; database tests will fail" >&2
fi

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }
if ! redis_up && command -v redis-server >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1 || true
  for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
fi
redis_up || echo "warning: Redis does not answer on 127.0.0.1:6379; Redis tests will fail" >&2

# The console's browser tests: Debian's chromium and playwright-core (once).
bash "$(dirname "${BASH_SOURCE[0]}")/browser-setup.sh" || echo "warning: the browser tests cannot run (see above)" >&2
