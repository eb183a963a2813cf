#!/usr/bin/env bash
# A one-node Slurm cluster on 127.0.0.1, for trying `deeplense compare --emit slurm` on one machine and for CI.
#
#   scripts/slurm-loopback.sh up      install (Debian: slurmctld slurmd slurm-client munge) if missing, start munged,
#                                     slurmctld and slurmd without systemd, wait until the node is idle
#   scripts/slurm-loopback.sh down    cancel every job, stop the three daemons by the PIDs recorded at `up`
#   scripts/slurm-loopback.sh status
#
# Then point the Slurm commands at it: export SLURM_CONF=$SLURM_LOOPBACK_DIR/slurm.conf (printed by `up`).
# Runs as root. Everything (configuration, munge key and socket, state, logs, PIDs) lives in SLURM_LOOPBACK_DIR
# (default /tmp/deeplense-slurm); the system's /etc/slurm and /etc/munge are not touched. Ports: SLURMCTLD_PORT
# (default 6817) and SLURMD_PORT (6818); `up` refuses to start when either is in use.
set -euo pipefail

DIR=${SLURM_LOOPBACK_DIR:-/tmp/deeplense-slurm}
CTLD_PORT=${SLURMCTLD_PORT:-6817}
D_PORT=${SLURMD_PORT:-6818}
CONF=$DIR/slurm.conf
PACKAGES="slurmctld slurmd slurm-client munge"
DAEMONS="munged slurmctld slurmd"

fail() { echo "slurm-loopback: $*" >&2; exit 1; }

running() { # name -> 0 when its recorded PID is alive
    local pid_file=$DIR/$1.pid
    [ -s "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

install_packages() {
    local missing="" p
    for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    [ -z "$missing" ] && return 0
    command -v apt-get >/dev/null || fail "missing$missing and no apt-get: install Slurm and munge by hand"
    echo "slurm-loopback: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

write_config() {
    local host cpus memory
    host=$(hostname -s)
    # The node must not claim more than slurmd finds.
    cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
    memory=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    [ -n "$cpus" ] && [ -n "$memory" ] || fail "could not read CPUs and memory from 'slurmd -C'"
    cat > "$CONF" <<EOF
# One-node loopback cluster written by scripts/slurm-loopback.sh
ClusterName=loopback
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$D_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.daemon.pid
SlurmdPidFile=$DIR/slurmd.daemon.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
# No delegated cgroup tree: track processes through /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# Several array tasks per node at once (select/linear would run them one at a time).
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# No slurmdbd: finished jobs are recorded here (state, exit code).
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
# sbatch --wait polls every 8 s instead of backing off to 32 s.
MinJobAge=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=loopback Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
    local munge_dir=$DIR/munge
    mkdir -p "$munge_dir"
    chown munge:munge "$munge_dir"
    chmod 0711 "$munge_dir"
    if [ ! -s "$munge_dir/munge.key" ]; then
        dd if=/dev/urandom of="$munge_dir/munge.key" bs=1024 count=1 status=none
    fi
    chown munge:munge "$munge_dir/munge.key"
    chmod 0400 "$munge_dir/munge.key"
    setpriv --reuid=munge --regid=munge --init-groups -- /usr/sbin/munged --foreground \
        --socket="$munge_dir/munge.socket" --key-file="$munge_dir/munge.key" --pid-file="$munge_dir/munged.pid" \
        --log-file="$munge_dir/munged.log" --seed-file="$munge_dir/munged.seed" </dev/null >/dev/null 2>&1 &
    echo $! > "$DIR/munged.pid"
    local i
    for i in $(seq 50); do
        [ -S "$munge_dir/munge.socket" ] && return 0
        running munged || fail "munged exited; see $munge_dir/munged.log"
        sleep 0.1
    done
    fail "munged did not open its socket; see $munge_dir/munged.log"
}

up() {
    [ "$(id -u)" = 0 ] || fail "run as root (slurmd starts jobs as their users)"
    local name
    for name in $DAEMONS; do running "$name" && fail "already up ($name has PID $(cat "$DIR/$name.pid")); run 'down' first"; done
    for port in "$CTLD_PORT" "$D_PORT"; do
        port_in_use "$port" && fail "port $port is in use (another Slurm?); choose SLURMCTLD_PORT and SLURMD_PORT"
    done
    install_packages
    rm -rf "$DIR/state" "$DIR/spool"
    mkdir -p "$DIR/state" "$DIR/spool"
    chmod 0755 "$DIR"
    write_config
    start_munge
    slurmctld -D -c -f "$CONF" </dev/null >"$DIR/slurmctld.out" 2>&1 &
    echo $! > "$DIR/slurmctld.pid"
    slurmd -D -f "$CONF" -N "$(hostname -s)" </dev/null >"$DIR/slurmd.out" 2>&1 &
    echo $! > "$DIR/slurmd.pid"
    local i state=""
    for i in $(seq 150); do
        for name in $DAEMONS; do running "$name" || { down_quietly; fail "$name exited; see $DIR/$name.log and $DIR/$name.out"; }; done
        state=$(SLURM_CONF=$CONF sinfo -h -N -o %T 2>/dev/null || true)
        [ "$state" = idle ] && break
        sleep 0.2
    done
    [ "$state" = idle ] || { down_quietly; fail "the node did not become idle in 30 s (state '${state:-none}'); see $DIR/*.log"; }
    echo "slurm-loopback: up ($(hostname -s), $(SLURM_CONF=$CONF sinfo -h -o '%c CPUs, %m MB')); PIDs munged $(cat "$DIR/munged.pid"), " \
         "slurmctld $(cat "$DIR/slurmctld.pid"), slurmd $(cat "$DIR/slurmd.pid")"
    echo "export SLURM_CONF=$CONF"
}

stop_daemon() { # name: TERM, wait up to 10 s, then KILL
    local pid_file=$DIR/$1.pid pid i
    [ -s "$pid_file" ] || return 0
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
}

down() {
    [ -f "$CONF" ] || { echo "slurm-loopback: not set up in $DIR"; return 0; }
    if running slurmctld; then
        # Jobs can outlive slurmd: cancel them first and wait until they are gone.
        local jobs i
        jobs=$(SLURM_CONF=$CONF squeue -h -o %A 2>/dev/null || true)
        if [ -n "$jobs" ]; then
            SLURM_CONF=$CONF scancel $jobs 2>/dev/null || true
            for i in $(seq 150); do
                [ -z "$(SLURM_CONF=$CONF squeue -h -o %A 2>/dev/null || true)" ] && break
                sleep 0.2
            done
        fi
    fi
    down_quietly
    echo "slurm-loopback: down"
}

down_quietly() {
    local name
    for name in slurmd slurmctld munged; do stop_daemon "$name"; done
}

status() {
    local name
    for name in $DAEMONS; do
        if running "$name"; then echo "$name: running (PID $(cat "$DIR/$name.pid"))"; else echo "$name: stopped"; fi
    done
    if running slurmctld; then SLURM_CONF=$CONF sinfo; SLURM_CONF=$CONF squeue; fi
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
