#!/usr/bin/env bash
# engine-docker26.sh - a second, modern Docker engine beside the running one, for the tests.
#
#   bash .ci/engine-docker26.sh            # installed, answering, base images loaded (idempotent)
#   bash .ci/engine-docker26.sh --stop     # stop it (its pidfile); --purge also deletes its data
#   . /opt/docker26/env                 # then docker/jettison talk to it (DOCKER_HOST, PATH, ...)
#
# Debian trixie's docker.io 26 + docker-cli + docker-buildx, unpacked (dpkg-deb -x) into
# /opt/docker26: never installed over the system's docker.io, whose daemon keeps running
# untouched. Its dockerd has its own socket, data root, exec root, pidfile, cgroup parent and
# bridge, and reuses the system's containerd and runc (trixie's would need a newer libc).
# Needs root and network access to the Debian mirror (first run only); works without a TTY.
#
# Knobs (environment):
#   ENGINE26_ROOT           install directory               (default /opt/docker26)
#   ENGINE26_CONTAINERD     1: containerd image store, whose `docker save` writes an OCI
#                           layout (default 1); 0: the classic overlay2 store
#   ENGINE26_IMAGES         repositories or tags copied from the system engine
#                           (default "debian python buildpack-deps"; "" copies none)
#   ENGINE26_SUBNET         the bridge's address (default 10.226.0.1/24)
#   ENGINE26_TIMEOUT        seconds to wait for the daemon (default 60)
#   ENGINE26_NEWEST_BUILDX  1: also install sid's newest buildx (rawjson progress) into
#                           $ENGINE26_ROOT/newest-buildx/config (default 1); 0: skip
set -euo pipefail

ROOT="${ENGINE26_ROOT:-/opt/docker26}"
SOCK=/run/docker26.sock
DATA=/var/lib/docker26
EXEC=/run/docker26
PIDFILE=/run/docker26.pid
CONF=/etc/docker26/daemon.json
LOG=/var/log/docker26.log
BRIDGE=docker26br
SUBNET="${ENGINE26_SUBNET:-10.226.0.1/24}"
TIMEOUT="${ENGINE26_TIMEOUT:-60}"
CONTAINERD_STORE="${ENGINE26_CONTAINERD:-1}"
IMAGES="${ENGINE26_IMAGES-debian python buildpack-deps}"
SUITE=trixie
PACKAGES=(docker.io docker-cli docker-buildx)
CACHE=/var/cache/docker26
SYSTEM_DOCKER=/usr/bin/docker   # the system engine's own client (talks to its default socket)
t0=$(date +%s)
did=()

die() { echo "engine-docker26.sh: ERROR: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"

docker26() { DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$ROOT/config" "$ROOT/bin/docker" "$@"; }
answers() { timeout 10 "$ROOT/bin/docker" -H "unix://$SOCK" version >/dev/null 2>&1; }
daemon_pid() {
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
    return 0
}

stop() {
    local pid
    pid="$(daemon_pid)"
    if [ -n "$pid" ]; then
        kill -TERM "$pid"
        for _ in $(seq 1 "$TIMEOUT"); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        kill -0 "$pid" 2>/dev/null && die "dockerd26 (pid $pid) did not stop within ${TIMEOUT}s"
        echo "engine-docker26.sh: stopped dockerd26 (pid $pid)"
    fi
    rm -f "$PIDFILE"
}

case "${1:-}" in
    --stop) stop; exit 0 ;;
    --purge)
        stop
        # its own containers' mounts may outlive the daemon; never follow them into the host
        grep -o " $DATA/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf "$DATA" "$EXEC"
        echo "engine-docker26.sh: removed $DATA"
        exit 0 ;;
    "") ;;
    *) die "unknown argument: $1 (--stop, --purge or nothing)" ;;
esac

# --- 1. binaries: trixie's .debs unpacked, nothing installed ---------------------------
# A private apt configuration: only the trixie index, in our own directories, so the
# system's sources, pins and package state are never touched.
if [ ! -x "$ROOT/usr/sbin/dockerd" ] || [ ! -x "$ROOT/usr/bin/docker" ] \
    || [ ! -x "$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" ]; then
    mkdir -p "$CACHE/etc" "$CACHE/lists/partial" "$CACHE/archives/partial" "$CACHE/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main" \
        >"$CACHE/etc/sources.list"
    apt_opts=(-q -o "Dir::Etc::SourceList=$CACHE/etc/sources.list" -o Dir::Etc::SourceParts=/nonexistent
        -o "Dir::State::Lists=$CACHE/lists" -o "Dir::Cache=$CACHE" -o "Dir::Cache::archives=$CACHE/archives"
        -o Dir::Etc::Preferences=/nonexistent -o Dir::Etc::PreferencesParts=/nonexistent
        -o APT::Sandbox::User=root)
    if ! ls "$CACHE"/debs/docker.io_*.deb "$CACHE"/debs/docker-cli_*.deb "$CACHE"/debs/docker-buildx_*.deb >/dev/null 2>&1; then
        apt-get "${apt_opts[@]}" update >"$CACHE/apt.log" 2>&1 \
            || { tail -n 5 "$CACHE/apt.log" >&2; die "apt-get update of $SUITE failed (log $CACHE/apt.log)"; }
        (cd "$CACHE/debs" && apt-get "${apt_opts[@]}" download "${PACKAGES[@]}") >>"$CACHE/apt.log" 2>&1 \
            || { tail -n 5 "$CACHE/apt.log" >&2; die "apt-get download ${PACKAGES[*]} failed (log $CACHE/apt.log)"; }
    fi
    tmp="$(mktemp -d "$(dirname "$ROOT")/.docker26.XXXXXX")"
    for deb in "$CACHE"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp"; done
    # its init script and rootless helpers would only confuse; the binaries are what we run
    rm -rf "$tmp/etc/init.d" "$tmp/etc/default" "$tmp/lib/systemd" "$tmp/usr/lib/systemd"
    rm -rf "$ROOT.old"; [ -e "$ROOT" ] && mv "$ROOT" "$ROOT.old"
    mv "$tmp" "$ROOT"; rm -rf "$ROOT.old"
    chmod 755 "$ROOT"
    did+=("unpacked $(cd "$CACHE/debs" && ls -- *.deb | sed 's/_amd64.deb$//' | tr '\n' ' ')into $ROOT")
fi
mkdir -p "$ROOT/bin" "$ROOT/config/cli-plugins"
# dockerd26: its own process name, so `pgrep -x dockerd` still finds only the system daemon
ln -sfn ../usr/sbin/dockerd "$ROOT/bin/dockerd26"
ln -sfn ../usr/bin/docker "$ROOT/bin/docker"
# the plugin where this client finds it (DOCKER_CONFIG/cli-plugins), not in the system's
# plugin directories: there it would change how every other client on the machine builds
ln -sfn ../../usr/libexec/docker/cli-plugins/docker-buildx "$ROOT/config/cli-plugins/docker-buildx"
[ -f "$ROOT/config/config.json" ] || echo '{}' >"$ROOT/config/config.json"
cat >"$ROOT/env" <<EOF
# . $ROOT/env - point docker (and jettison) at the second engine
export DOCKER_HOST=unix://$SOCK
export DOCKER_CONFIG=$ROOT/config
export PATH=$ROOT/bin:\$PATH
EOF

# --- 2. network: its own bridge, never docker0 ------------------------------------------
# --bridge=none would make dockerd delete the host's docker0; iptables=false because a
# dockerd with iptables flushes the DOCKER chains the system daemon's published ports use.
# NAT and forwarding for its subnet are added here instead (RUN steps reach the mirrors).
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    did+=("created bridge $BRIDGE")
fi
addrs="$(ip -o -4 addr show dev "$BRIDGE")"
[[ "$addrs" == *" inet ${SUBNET} "* ]] || ip addr add "$SUBNET" dev "$BRIDGE"
ip link set "$BRIDGE" up
net="$(python3 -c "import ipaddress,sys; print(ipaddress.ip_interface(sys.argv[1]).network)" "$SUBNET")"
rule() { iptables -t "$1" -C "${@:2}" 2>/dev/null || iptables -t "$1" -A "${@:2}"; }
rule nat POSTROUTING -s "$net" ! -o "$BRIDGE" -j MASQUERADE
rule filter FORWARD -i "$BRIDGE" -j ACCEPT
rule filter FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
sysctl -qw net.ipv4.ip_forward=1

# --- 3. daemon configuration ------------------------------------------------------------
mkdir -p "$(dirname "$CONF")"
features='"buildkit": true'
[ "$CONTAINERD_STORE" = 1 ] && features+=', "containerd-snapshotter": true'
new_conf="$(cat <<EOF
{
  "hosts": ["unix://$SOCK"],
  "data-root": "$DATA",
  "exec-root": "$EXEC",
  "pidfile": "$PIDFILE",
  "bridge": "$BRIDGE",
  "iptables": false,
  "ip6tables": false,
  "ip-masq": false,
  "cgroup-parent": "/docker26",
  "userland-proxy-path": "$ROOT/usr/sbin/docker-proxy",
  "init-path": "/usr/bin/docker-init",
  "features": { $features },
  "registry-mirrors": ["http://127.0.0.1:5000"],
  "insecure-registries": ["127.0.0.1:5000"]
}
EOF
)"
if [ "$(cat "$CONF" 2>/dev/null)" != "$new_conf" ]; then
    printf '%s\n' "$new_conf" >"$CONF"
    if [ -n "$(daemon_pid)" ]; then stop >/dev/null; did+=("restarted for a new $CONF"); fi
fi

# --- 4. daemon --------------------------------------------------------------------------
if answers; then
    did+=("dockerd26 already running (pid $(daemon_pid))")
else
    pid="$(daemon_pid)"
    if [ -z "$pid" ]; then
        rm -f "$PIDFILE"
        mkdir -p "$DATA" "$EXEC"
        echo "=== $(date -u +%FT%TZ) started by engine-docker26.sh" >>"$LOG"
        # own session, stdin closed, no inherited descriptors (a CI pipe must not be held);
        # the system's containerd/runc/shim come first on PATH
        (
            for fd in /proc/self/fd/*; do fd="${fd##*/}"; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
            PATH=/usr/sbin:/usr/bin:/sbin:/bin exec setsid "$ROOT/bin/dockerd26" --config-file "$CONF" \
                </dev/null >>"$LOG" 2>&1
        ) &
        did+=("started dockerd26 (log $LOG)")
    fi
    deadline=$(( $(date +%s) + TIMEOUT ))
    until answers; do
        if [ "$(date +%s)" -ge "$deadline" ] || ! pgrep -x dockerd26 >/dev/null; then
            tail -n 20 "$LOG" >&2
            die "dockerd26 did not answer on unix://$SOCK within ${TIMEOUT}s (log $LOG; stop: bash $0 --stop)"
        fi
        sleep 1
    done
fi

# --- 5. base images: the system engine's stand-ins, copied ---------------------------
# Unmodified Dockerfiles then build offline here too. A tag is copied when missing or when
# the system engine's image behind it changed (recorded in a stamp file per tag).
stamp_dir="$DATA/.copied-images"
mkdir -p "$stamp_dir"
if [ -n "$IMAGES" ] && [ -x "$SYSTEM_DOCKER" ]; then
    have="$(docker26 image ls --format '{{.Repository}}:{{.Tag}}')"
    declare -A wanted_by_id=()
    for what in $IMAGES; do
        if [[ "$what" == *:* ]]; then filter=(--filter "reference=$what"); else filter=("$what"); fi
        while read -r ref id; do
            [ -n "$ref" ] || continue
            key="$(printf '%s' "$ref" | tr '/:' '__')"
            if grep -qxF "$ref" <<<"$have" && [ "$(cat "$stamp_dir/$key" 2>/dev/null)" = "$id" ]; then
                continue
            fi
            wanted_by_id[$id]+=" $ref"
        done < <(DOCKER_HOST= "$SYSTEM_DOCKER" image ls "${filter[@]}" --format '{{.Repository}}:{{.Tag}} {{.ID}}' \
                 | grep -v '<none>' || true)
    done
    if [ ${#wanted_by_id[@]} -gt 0 ]; then
        refs=()
        for id in "${!wanted_by_id[@]}"; do read -ra r <<<"${wanted_by_id[$id]}"; refs+=("${r[@]}"); done
        tl=$(date +%s)
        # one save for all: layers shared between tags cross once
        DOCKER_HOST= "$SYSTEM_DOCKER" save "${refs[@]}" | docker26 load -q >/dev/null \
            || die "copying ${#refs[@]} image tags into the second engine failed"
        for id in "${!wanted_by_id[@]}"; do
            for ref in ${wanted_by_id[$id]}; do printf '%s' "$id" >"$stamp_dir/$(printf '%s' "$ref" | tr '/:' '__')"; done
        done
        did+=("copied ${#refs[@]} image tags ($(( $(date +%s) - tl ))s)")
    fi
fi

# --- 6. the newest Debian buildx, beside the engine's own --------------------------------
# trixie's buildx (0.13) cannot print --progress=rawjson; sid's can. It goes into a client
# configuration of its own ($ROOT/newest-buildx/config), so the engine's tests keep trixie's
# buildx and the rawjson tests point DOCKER_CONFIG there. The .deb is checked against the
# sha256 of sid's signed index entry.
NEWEST="$ROOT/newest-buildx"
if [ "${ENGINE26_NEWEST_BUILDX:-1}" = 1 ] && [ ! -x "$NEWEST/config/cli-plugins/docker-buildx" ]; then
    tb=$(date +%s)
    mkdir -p "$CACHE/newest-buildx"
    entry="$(curl -fsS --max-time 120 http://deb.debian.org/debian/dists/sid/main/binary-amd64/Packages.xz \
        | xz -d | awk '/^Package: docker-buildx$/,/^$/')" || die "reading sid's package index failed"
    file="$(sed -n 's/^Filename: //p' <<<"$entry")"; sum="$(sed -n 's/^SHA256: //p' <<<"$entry")"
    [ -n "$file" ] && [ -n "$sum" ] || die "no docker-buildx in sid's package index"
    deb="$CACHE/newest-buildx/$(basename "$file")"
    [ -f "$deb" ] || curl -fsS --max-time 600 -o "$deb" "http://deb.debian.org/debian/$file" \
        || die "downloading $file failed"
    echo "$sum  $deb" | sha256sum -c --quiet - || { rm -f "$deb"; die "$deb: sha256 mismatch"; }
    tmp="$(mktemp -d)"; dpkg-deb -x "$deb" "$tmp"
    mkdir -p "$NEWEST/config/cli-plugins"
    install -m 755 "$tmp/usr/libexec/docker/cli-plugins/docker-buildx" "$NEWEST/config/cli-plugins/docker-buildx"
    rm -rf "$tmp"
    did+=("installed $(basename "$deb" _amd64.deb) in $NEWEST ($(( $(date +%s) - tb ))s)")
fi

ver="$(docker26 version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
bx="$(docker26 buildx version 2>/dev/null | awk '{print $2}')"
store="$(docker26 info --format '{{.Driver}}' 2>/dev/null || echo '?')"
msg="$(IFS=';'; echo "${did[*]}")"
echo "engine-docker26.sh: engine ${ver} (buildx ${bx:-?}, storage ${store}) ready on unix://$SOCK in $(( $(date +%s) - t0 ))s: ${msg//;/; }"
