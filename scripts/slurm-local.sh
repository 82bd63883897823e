#!/usr/bin/env bash
# A real one-node Slurm cluster on localhost, for the tests of `h2g batch --executor slurm` and CI:
# Debian's slurm-wlm daemons (slurmctld + slurmd) with munge authentication, configured in a private
# state directory so nothing under /etc/slurm changes. Needs root (munged runs as the munge user, the
# Slurm daemons as root) and the packages slurmctld slurmd slurm-client munge.
#
#   scripts/slurm-local.sh start    start it (or reuse the one already running); prints SLURM_CONF=<file>
#   scripts/slurm-local.sh stop     stop the daemons this script started
#   scripts/slurm-local.sh status   exit 0 when the controller answers and the node is up
#
# Clients find the cluster through SLURM_CONF (sbatch, squeue, sacct, scancel all read it). The
# partition is `debug` (the default); no accounting database, so `sacct` is unavailable, as on many
# small clusters. State: $H2G_SLURM_DIR (default /tmp/h2g-slurm).
set -euo pipefail

STATE="${H2G_SLURM_DIR:-/tmp/h2g-slurm}"
CONF="$STATE/slurm.conf"
export SLURM_CONF="$CONF"

die() { echo "slurm-local: $*" >&2; exit 1; }

need_tools() {
  local missing=()
  for t in slurmctld slurmd sbatch squeue scontrol munged munge; do
    command -v "$t" >/dev/null || [[ -x "/usr/sbin/$t" ]] || missing+=("$t")
  done
  ((${#missing[@]} == 0)) ||
    die "missing ${missing[*]}: apt-get install slurmctld slurmd slurm-client munge"
}

cluster_up() {
  scontrol ping 2>/dev/null | grep -q 'is UP' &&
    sinfo -h -N -o '%T' 2>/dev/null | grep -qvE 'down|drain|fail|unknown|not_responding'
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
  install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  install -d -o munge -g munge -m 0755 /run/munge
  if [[ ! -s /etc/munge/munge.key ]]; then
    runuser -u munge -- /usr/sbin/mungekey --create --keyfile=/etc/munge/munge.key
  fi
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return
    sleep 0.1
  done
  die "munged did not start (see /var/log/munge/munged.log)"
}

write_conf() {
  local host cpus mem
  host="$(hostname -s)"
  cpus="$(nproc)"
  # What slurmd itself detects, less 5% so a busy machine still registers.
  mem="$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')"
  mem=$((mem * 95 / 100))
  mkdir -p "$STATE/ctld" "$STATE/spool" "$STATE/log"
  cat >"$CONF" <<EOF
# Written by scripts/slurm-local.sh: a one-node test cluster on localhost.
ClusterName=h2glocal
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldPort=${H2G_SLURMCTLD_PORT:-6817}
SlurmdPort=${H2G_SLURMD_PORT:-6818}
# No cgroups in containers: track processes by their parent, bind no CPUs.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Cancelled tasks get SIGTERM, then SIGKILL after 5 s; finished jobs stay visible to scontrol 10 min.
KillWait=5
MinJobAge=600
SchedulerParameters=sched_interval=1
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
}

start() {
  [[ $EUID -eq 0 ]] || die "needs root (it starts munged, slurmctld and slurmd)"
  need_tools
  if [[ -f "$CONF" ]] && cluster_up; then
    echo "SLURM_CONF=$CONF"
    return
  fi
  stop_daemons
  start_munge
  write_conf
  /usr/sbin/slurmctld -f "$CONF"
  /usr/sbin/slurmd -f "$CONF"
  for _ in $(seq 150); do
    if cluster_up; then
      echo "SLURM_CONF=$CONF"
      return
    fi
    sleep 0.2
  done
  tail -n 20 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
  die "the cluster did not come up within 30 s (logs above)"
}

stop_daemons() {
  local f pid
  for f in "$STATE/slurmd.pid" "$STATE/slurmctld.pid"; do
    [[ -f "$f" ]] || continue
    pid="$(cat "$f")"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$f"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop_daemons ;;
  status) cluster_up ;;
  *) die "usage: $0 start|stop|status" ;;
esac
