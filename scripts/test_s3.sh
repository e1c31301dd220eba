#!/usr/bin/env bash
# Opt-in check (make test-s3): dataprep against a real S3-compatible server on loopback, moto's
# server mode (from PyPI, in .build-s3/venv) with authentication enforced: after its first four
# requests (which create an IAM user, its policy and access key, and the bucket) every request
# must carry a valid SigV4 signature of that key. Checks, each printed as it passes:
#   pack --out s3:// (a shard in parts, multipart), train --shards s3:// (the history of the
#   local run), the Python loader from s3:// (the local batches), --part x3 + merge inside the
#   bucket (byte-identical to one local run), a wrong secret (a clear error, no manifest written),
#   a resumed upload (shards already there skipped).
# Starts and stops the server it started (by pid). Skips, saying why, when PyPI cannot provide moto.
#   scripts/test_s3.sh PATH-TO-DATAPREP PATH-TO-LIBDATAPREPENGINE
set -euo pipefail
dataprep=$(realpath "${1:?usage: scripts/test_s3.sh DATAPREP ENGINE}")
engine=$(realpath "${2:?usage: scripts/test_s3.sh DATAPREP ENGINE}")
repository=$(cd "$(dirname "$0")/.." && pwd)
venv=$repository/.build-s3/venv
work=$(mktemp -d /tmp/dataprep-s3.XXXXXX)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$repository/scripts/python_venv.sh" "$venv" moto,boto3,flask 'moto[server]' || { echo "test-s3: skipped: pip could not install moto[server]"; exit 0; }

passed=0 failed=0
pass() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }

# The server, on a free port, with authentication enforced after the four setup requests.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
INITIAL_NO_AUTH_ACTION_COUNT=4 "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
server=$!
endpoint=http://127.0.0.1:$port
# Wait for the port with a bare TCP connection: an HTTP request would count as one of the four.
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
read -r key secret reader_key reader_secret < <("$venv/bin/python" - "$endpoint" <<'EOF'
import boto3, json, sys
options = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **options)
iam.create_user(UserName="dataprep")
iam.put_user_policy(UserName="dataprep", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "iam:*"], "Resource": "*"}]}))
key = iam.create_access_key(UserName="dataprep")["AccessKey"]
boto3.client("s3", **options).create_bucket(Bucket="sets")
# A second user who may read and delete but not write: its uploads fail mid-run.
signed = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
              aws_secret_access_key=key["SecretAccessKey"])
iam = boto3.client("iam", **signed)
iam.create_user(UserName="reader")
iam.put_user_policy(UserName="reader", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject", "s3:ListBucket"],
                                             "Resource": "*"}]}))
reader = iam.create_access_key(UserName="reader")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"], reader["AccessKeyId"], reader["SecretAccessKey"])
EOF
)
export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_ENDPOINT_URL=$endpoint AWS_REGION=us-east-1
export DATAPREP_HOME=$work/home
cd "$work"

# A dataset: two classes of 24x24 gray PNGs (train 60 + validation 20 each), and 640 64x64 RGB
# PNGs (8 MB of shard: more than one 5 MiB part).
/usr/bin/python3 - <<'EOF'
import os, struct, zlib
import numpy as np
def png(path, pixels):
    height, width = pixels.shape[:2]
    kind = 0 if pixels.ndim == 2 else 2
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))
    chunk = lambda tag, data: struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, kind, 0, 0, 0))
                   + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
rng = np.random.default_rng(0)
for split, count in (("train", 60), ("validation", 20)):
    for label, name in enumerate(("dark", "bright")):
        os.makedirs(f"data/{split}/{name}", exist_ok=True)
        for i in range(count):
            png(f"data/{split}/{name}/{i}.png", (rng.integers(0, 128, (24, 24)) + 120 * label).astype(np.uint8))
for name in ("a", "b"):
    os.makedirs(f"big/{name}", exist_ok=True)
    for i in range(320):
        png(f"big/{name}/{i}.png", rng.integers(0, 256, (64, 64, 3)).astype(np.uint8))
EOF

pack=(--size 24x24 --channels 1 --shard-size 8KB --threads 2)
"$dataprep" pack data/train "${pack[@]}" --out local >/dev/null
"$dataprep" pack data/validation "${pack[@]}" --out local/validation >/dev/null

# pack --out s3://, validation beside it; a shard larger than a part goes up in parts.
if "$dataprep" pack data/train "${pack[@]}" --out s3://sets/tutorial && "$dataprep" pack data/validation "${pack[@]}" --out s3://sets/tutorial/validation \
  && "$dataprep" verify s3://sets/tutorial && "$dataprep" verify s3://sets/tutorial/validation; then
  pass "pack --out s3://sets/tutorial (and validation), verify from the bucket"
else fail "pack --out s3://"; fi
if DATAPREP_S3_PART_SIZE=5242880 "$dataprep" pack big --size 64x64 --shard-size 16MB --out s3://sets/big && "$dataprep" verify s3://sets/big \
  && grep -q 'uploadId=' "$work/moto.log"; then
  pass "a 8 MB shard in 5 MiB parts (multipart upload), verified from the bucket"
else fail "multipart upload"; fi

# train from the bucket: the local run's history (loss and accuracy columns).
train=(train --model conv8,pool,flatten,dense16,output --batch-size 16 --seed 3 --epochs 2)
"$dataprep" "${train[@]}" --shards local --run-dir run-local >/dev/null 2>&1
if "$dataprep" "${train[@]}" --shards s3://sets/tutorial --run-dir run-s3 --cache "$work/train-cache" --cache-limit 20KB --shuffle shards:1 >/dev/null 2>"$work/train.err" \
  && "$dataprep" "${train[@]}" --shards local --run-dir run-local-window --shuffle shards:1 >/dev/null 2>&1 \
  && diff <(cut -d, -f1-5 run-local-window/history.csv) <(cut -d, -f1-5 run-s3/history.csv) \
  && "$dataprep" "${train[@]}" --shards s3://sets/tutorial --run-dir run-s3-global >/dev/null 2>&1 \
  && diff <(cut -d, -f1-5 run-local/history.csv) <(cut -d, -f1-5 run-s3-global/history.csv); then
  pass "train --shards s3://sets/tutorial: the local history ($(grep -o 'cache: .*' "$work/train.err" | head -1))"
else fail "train --shards s3://"; cat "$work/train.err"; fi

# The Python loader from s3://: the local batches.
if PYTHONPATH=$repository/python DATAPREP_ENGINE=$engine /usr/bin/python3 - <<'EOF'
import numpy as np, dataprep_shards as dp
augment = dict(rotation_range=20, horizontal_flip=True)
with dp.Loader("local", 8, seed=5, augment=augment) as local, dp.Loader("s3://sets/tutorial", 8, seed=5, augment=augment, cache_limit=20000) as remote:
    for epoch in (0, 1):
        local.set_epoch(epoch); remote.set_epoch(epoch)
        for (a, la), (b, lb) in zip(local, remote):
            assert np.array_equal(a, b) and np.array_equal(la, lb)
reader = dp.ShardSet("s3://sets/tutorial/validation")
assert len(reader) == 40 and np.array_equal(reader[7][0], dp.ShardSet("local/validation")[7][0])
EOF
then pass "the Python Loader and ShardSet from s3://: the local batches and samples"
else fail "the Python loader from s3://"; fi

# --part x3 into the bucket, merged inside it: byte-identical to the local run.
ok=1
for part in 0 1 2; do "$dataprep" pack data/train "${pack[@]}" --part $part/3 --out s3://sets/parts/$part >/dev/null || ok=0; done
"$dataprep" merge s3://sets/merged s3://sets/parts/0 s3://sets/parts/1 s3://sets/parts/2 >/dev/null || ok=0
if [ $ok = 1 ] && "$venv/bin/python" - "$endpoint" <<'EOF'
import boto3, json, os, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
manifest = json.load(open("local/manifest.json"))
for shard in manifest["shards"]:
    remote = s3.get_object(Bucket="sets", Key="merged/" + shard["file"])["Body"].read()
    assert remote == open("local/" + shard["file"], "rb").read(), shard["file"]
remote = json.loads(s3.get_object(Bucket="sets", Key="merged/manifest.json")["Body"].read())
assert remote["shards"] == manifest["shards"]
EOF
then pass "pack --part 0/3, 1/3, 2/3 to s3://sets/parts/I, merge inside the bucket: byte-identical to one local run"
else fail "--part x3 + merge in the bucket"; fi

# A wrong secret: a clear error, and no manifest left at the destination.
if ! AWS_SECRET_ACCESS_KEY=wrong "$dataprep" verify s3://sets/tutorial --cache "$work/other-cache" 2>"$work/wrong.err" \
  && grep -q 'SignatureDoesNotMatch' "$work/wrong.err"; then
  pass "a wrong secret: $(cat "$work/wrong.err")"
else fail "a wrong secret"; cat "$work/wrong.err"; fi
if ! AWS_ACCESS_KEY_ID=$reader_key AWS_SECRET_ACCESS_KEY=$reader_secret "$dataprep" pack data/train "${pack[@]}" --out s3://sets/failed 2>"$work/upload.err" \
  && grep -q 'uploadFailed' "$work/upload.err" && grep -q 'run the same command again' "$work/upload.err" \
  && "$venv/bin/python" -c "
import boto3, sys
s3 = boto3.client('s3', endpoint_url='$endpoint', region_name='us-east-1')
sys.exit(0 if s3.list_objects_v2(Bucket='sets', Prefix='failed/manifest.json').get('KeyCount', 0) == 0 else 1)"; then
  pass "a failed upload leaves no manifest and says how to resume: $(cat "$work/upload.err")"
else fail "a failed upload"; cat "$work/upload.err"; fi
if "$dataprep" pack data/train "${pack[@]}" --out s3://sets/tutorial | grep -q 'already there'; then
  pass "a second run skips the shards already uploaded"
else fail "resuming an upload"; fi
if "$dataprep" push local s3://sets/pushed >/dev/null && "$dataprep" verify s3://sets/pushed/validation >/dev/null; then
  pass "push local s3://sets/pushed (and its validation set)"
else fail "push"; fi

echo "test-s3: $passed passed, $failed failed"
[ "$failed" = 0 ]
