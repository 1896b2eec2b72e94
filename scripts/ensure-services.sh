#!/usr/bin/env bash
# Makes sure what the tests need is here and running, on any machine:
#   postgres  PostgreSQL on 127.0.0.1:5432, role postgres, no password over TCP
#   redis     Redis on 127.0.0.1:6379
#   node      node (16 or newer) and npm, for newman
#   python3   Python 3.9 or newer
#   curl      curl
#
# Usage: scripts/ensure-services.sh [postgres] [redis] [node] [python3] [curl]   (default: all)
#
# Quiet and idempotent when everything is present. When something is missing and we are
# root on Debian/Ubuntu, it is installed with apt-get and started; otherwise the script stops
# with a message naming exactly what is missing and how to get it. Exit 0 = all present.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

log() { printf 'ensure-services: %s\n' "$*" >&2; }
die() {
    printf 'ensure-services: MISSING: %s\n' "$1" >&2
    shift
    for line in "$@"; do printf '  %s\n' "$line" >&2; done
    exit 1
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

APT_UPDATED=0
APT_LOG=$(mktemp -t ensure-services-apt.XXXXXX)
trap 'rm -f "$APT_LOG"' EXIT

apt_install() {
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        if ! apt-get update >"$APT_LOG" 2>&1; then
            cat "$APT_LOG" >&2
            die "apt-get update failed" "the package lists could not be fetched; see the output above"
        fi
        APT_UPDATED=1
    fi
    log "apt-get install -y $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$APT_LOG" 2>&1; then
        cat "$APT_LOG" >&2
        die "apt-get install $* failed" "see the output above"
    fi
}

# --- PostgreSQL -------------------------------------------------------------------------

pg_login_ok() {
    command -v psql >/dev/null 2>&1 || return 1
    PGCONNECT_TIMEOUT=5 psql -w -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -tAqc 'select 1' >/dev/null 2>&1
}

pg_ready() {
    command -v pg_isready >/dev/null 2>&1 || return 1
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
}

pg_version() {
    # The newest cluster configuration Debian's postgresql-common knows about.
    find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 1
}

pg_wait() {
    for _ in $(seq 1 30); do
        pg_ready && return 0
        sleep 1
    done
    return 1
}

ensure_postgres() {
    pg_login_ok && return 0

    local fresh=0
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(pg_version)" ]; then
        can_apt || die "PostgreSQL (nothing accepts connections on $PG_HOST:$PG_PORT, and it is not installed)" \
            "install and start it, e.g. on Debian/Ubuntu as root: apt-get install -y postgresql" \
            "then: pg_ctlcluster --skip-systemctl-redirect <version> main start" \
            "and let the postgres role connect over TCP without a password:" \
            "  add 'host all postgres 127.0.0.1/32 trust' at the top of pg_hba.conf"
        apt_install postgresql postgresql-client
        fresh=1
    fi

    local version
    version=$(pg_version)
    [ -n "$version" ] || die "PostgreSQL is installed but has no cluster under /etc/postgresql" \
        "create one as root: pg_createcluster <version> main --start"
    if [ ! -d "/etc/postgresql/$version/main" ]; then
        can_apt || die "PostgreSQL $version has no 'main' cluster" "create it as root: pg_createcluster $version main"
        log "pg_createcluster $version main"
        pg_createcluster "$version" main >/dev/null
        fresh=1
    fi

    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    if [ "$fresh" = 1 ]; then
        # A cluster we just made: let the postgres role in over TCP without a password, as
        # the tests (and STACK.md's machines) expect. Never done to a cluster we did not make.
        if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
            sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
        fi
    fi

    if ! pg_ready; then
        [ "$(id -u)" = 0 ] || die "PostgreSQL $version is installed but not running on $PG_HOST:$PG_PORT" \
            "start it as root: pg_ctlcluster --skip-systemctl-redirect $version main start"
        log "pg_ctlcluster --skip-systemctl-redirect $version main start"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
        pg_wait || die "PostgreSQL $version did not start on $PG_HOST:$PG_PORT" \
            "see /var/log/postgresql/postgresql-$version-main.log" \
            "(is another server using port $PG_PORT? is 'port' in /etc/postgresql/$version/main/postgresql.conf $PG_PORT?)"
    elif [ "$fresh" = 1 ]; then
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1 || true
    fi

    pg_login_ok || die "PostgreSQL runs on $PG_HOST:$PG_PORT but the postgres role cannot log in over TCP without a password" \
        "the tests connect as postgres://postgres@$PG_HOST:$PG_PORT with no password; add" \
        "  host all postgres 127.0.0.1/32 trust" \
        "at the top of $hba (or your server's pg_hba.conf) and reload PostgreSQL"
}

# --- Redis ------------------------------------------------------------------------------

redis_ok() {
    command -v redis-cli >/dev/null 2>&1 || return 1
    [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

ensure_redis() {
    redis_ok && return 0
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        can_apt || die "Redis (nothing answers PING on $REDIS_HOST:$REDIS_PORT, and redis-server is not installed)" \
            "install and start it, e.g. on Debian/Ubuntu as root: apt-get install -y redis-server" \
            "then: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no"
        apt_install redis-server redis-tools
    fi
    log "redis-server --daemonize yes --bind $REDIS_HOST --port $REDIS_PORT"
    redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do
        redis_ok && return 0
        sleep 1
    done
    die "Redis did not start on $REDIS_HOST:$REDIS_PORT" "is another process using port $REDIS_PORT?"
}

# --- node, npm, python3, curl ------------------------------------------------------------

node_ok() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 1
    local major
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || return 1
    [ "$major" -ge 16 ]
}

ensure_node() {
    node_ok && return 0
    can_apt || die "node 16+ and npm (needed to install and run newman for Microsoft's Postman collection)" \
        "install them, e.g. on Debian/Ubuntu as root: apt-get install -y nodejs npm" \
        "found: node $(node --version 2>/dev/null || echo none), npm $(npm --version 2>/dev/null || echo none)"
    apt_install nodejs npm
    node_ok || die "node 16+ and npm after apt-get install nodejs npm" \
        "found: node $(node --version 2>/dev/null || echo none), npm $(npm --version 2>/dev/null || echo none)" \
        "this distribution's nodejs is too old; install node 16 or newer another way"
}

python_ok() {
    command -v python3 >/dev/null 2>&1 && python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null
}

ensure_python() {
    python_ok && return 0
    can_apt || die "python3 3.9+ (runs Okta's spec test and judges newman's report)" \
        "install it, e.g. on Debian/Ubuntu as root: apt-get install -y python3"
    apt_install python3
    python_ok || die "python3 3.9+ after apt-get install python3" "found: $(python3 --version 2>&1 || echo none)"
}

ensure_curl() {
    command -v curl >/dev/null 2>&1 && return 0
    can_apt || die "curl" "install it, e.g. on Debian/Ubuntu as root: apt-get install -y curl"
    apt_install curl ca-certificates
}

# --- main -------------------------------------------------------------------------------

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(postgres redis node python3 curl)
for what in "${wanted[@]}"; do
    case "$what" in
        postgres | postgresql) ensure_postgres ;;
        redis) ensure_redis ;;
        node | npm | newman) ensure_node ;;
        python | python3) ensure_python ;;
        curl) ensure_curl ;;
        *) die "unknown service '$what'" "known: postgres redis node python3 curl" ;;
    esac
done
