#!/usr/bin/env bash
# Opt-in check (make test-slurm): a one-node SLURM cluster on loopback runs a 4-task job array of
# `dataprep augment --part auto` over a generated set, then `dataprep merge`; the merged shards must
# be byte-identical to a one-process run. Installs slurm-wlm and munge (Debian), starts munged,
# slurmctld and slurmd with a private configuration, and stops what it started. Skips, with the
# reason, when the packages cannot be installed or the daemons cannot start.
set -euo pipefail
dataprep=$(realpath "${1:?usage: scripts/test_slurm.sh PATH-TO-DATAPREP}")
work=$(mktemp -d /tmp/dataprep-slurm.XXXXXX)
skip() { echo "test-slurm: skipped: $*"; exit 0; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

sudo=$([ "$(id -u)" = 0 ] || echo sudo)
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null \
    || skip "cannot install slurm-wlm and munge"
fi

# munge: a private key and socket.
mkdir -p "$work/munge" && chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none && chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" --pid-file="$work/munge/pid" \
  --log-file="$work/munge/log" --seed-file="$work/munge/seed" || skip "munged does not start ($(tail -1 "$work/munge/log" 2>/dev/null))"
pids+=("$(cat "$work/munge/pid")")

# A one-node cluster on loopback, everything under $work.
mkdir -p "$work/spool/ctld" "$work/spool/d"
cat >"$work/slurm.conf" <<CONF
ClusterName=dataprep
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/linear
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF" || skip "slurmctld does not start ($(tail -1 "$work/slurmctld.log" 2>/dev/null))"
sleep 1; pids+=("$(cat "$work/slurmctld.pid")")
slurmd -f "$SLURM_CONF" -N localhost || skip "slurmd does not start ($(tail -1 "$work/slurmd.log" 2>/dev/null))"
sleep 1; pids+=("$(cat "$work/slurmd.pid")")
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mixed' && break; sleep 1; done
sinfo -h -o %T | grep -qE 'idle|mixed' || skip "the node does not come up: $(sinfo -h 2>&1 | head -1)"

# The data: 2 classes × 12 generated PNGs per split.
python3 - "$work/data" <<'PY'
import struct, sys, zlib, pathlib, random
root = pathlib.Path(sys.argv[1]); rng = random.Random(0)
def png(path, w, h, seed):
    r = random.Random(seed)
    raw = b"".join(b"\0" + bytes(r.randrange(256) for _ in range(w * 3)) for _ in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for split in ("train", "validation"):
    for c in ("cats", "dogs"):
        folder = root / split / c; folder.mkdir(parents=True)
        for i in range(12): png(folder / f"{i}.png", 40 + i, 30 + i, hash((split, c, i)) & 0xFFFF)
PY
options=(--size 32x24 --rotate 30 --flip --copies 3 --seed 5 --shard-size 20KB --threads 1)
"$dataprep" augment "$work/data" --out "$work/whole" "${options[@]}" >/dev/null

cat >"$work/augment.sbatch" <<SB
#!/bin/bash
#SBATCH --array=0-3
#SBATCH --output=$work/part-%a.log
"$dataprep" augment "$work/data" ${options[*]} --part auto --out "$work/parts/\$SLURM_ARRAY_TASK_ID"
SB
started=$(date +%s)
job=$(sbatch --parsable "$work/augment.sbatch")
for _ in $(seq 300); do squeue -h -j "$job" 2>/dev/null | grep -q . || break; sleep 1; done
for i in 0 1 2 3; do [ -f "$work/parts/$i/manifest.json" ] || { cat "$work/part-$i.log" 2>/dev/null; echo "test-slurm: FAILED: part $i missing"; exit 1; }; done
"$dataprep" merge "$work/merged" "$work"/parts/{0,1,2,3}
for file in "$work"/whole/*.dps "$work"/whole/validation/*.dps; do
  cmp -s "$file" "${file/whole/merged}" || { echo "test-slurm: FAILED: ${file#$work/} differs"; exit 1; }
done
echo "test-slurm: passed: a 4-task SLURM array and merge gave the one-process bytes ($(( $(date +%s) - started )) s)"
