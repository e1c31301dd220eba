#!/usr/bin/env bash
# Opt-in check (make test-nginx): Debian's nginx serves a shard set over HTTPS on loopback with a
# self-signed certificate; dataprep reads it with --cacert and with CURL_CA_BUNDLE (the same
# batches: verify, and train's history equal to the local run's), and refuses it without either
# (a TLS error naming the URL). Installs nginx when missing; starts nginx with a private
# configuration and stops it (by pid). Skips, saying why, when nginx cannot be installed.
#   scripts/test_nginx.sh PATH-TO-DATAPREP
set -euo pipefail
dataprep=$(realpath "${1:?usage: scripts/test_nginx.sh PATH-TO-DATAPREP}")
work=$(mktemp -d /tmp/dataprep-nginx.XXXXXX)
chmod 755 "$work"  # nginx's workers run as another user
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT
sudo=$([ "$(id -u)" = 0 ] || echo sudo)
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null \
    || { echo "test-nginx: skipped: cannot install nginx"; exit 0; }
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)
export DATAPREP_HOME=$work/home
cd "$work"
passed=0 failed=0
pass() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }

# A self-signed certificate for 127.0.0.1 and a set to serve.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout key.pem -out cert.pem 2>/dev/null
/usr/bin/python3 - <<'EOF'
import os, struct, zlib
import numpy as np
def png(path, pixels):
    height, width = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))
    chunk = lambda tag, data: struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                   + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
rng = np.random.default_rng(1)
for label, name in enumerate(("dark", "bright")):
    os.makedirs(f"data/{name}", exist_ok=True)
    for i in range(60):
        png(f"data/{name}/{i}.png", (rng.integers(0, 128, (24, 24)) + 120 * label).astype(np.uint8))
EOF
mkdir -p www
"$dataprep" pack data --size 24x24 --channels 1 --shard-size 8KB --out www/set >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p logs tmp
cat >nginx.conf <<EOF
daemon on;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 64; }
http {
  access_log $work/logs/access.log;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp; uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  types { application/json json; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    root $work/www;
  }
}
EOF
"$nginx" -c "$work/nginx.conf" -p "$work" 2>"$work/logs/start.err" || { echo "test-nginx: skipped: nginx does not start ($(cat "$work/logs/start.err"))"; exit 0; }
for _ in $(seq 50); do [ -f "$work/nginx.pid" ] && break; sleep 0.1; done
url=https://127.0.0.1:$port/set

if "$dataprep" verify "$url" --cacert cert.pem --cache c1; then pass "verify $url --cacert cert.pem"; else fail "--cacert"; fi
if CURL_CA_BUNDLE=$work/cert.pem "$dataprep" verify "$url" --cache c2; then pass "verify $url with CURL_CA_BUNDLE"; else fail "CURL_CA_BUNDLE"; fi
if ! "$dataprep" verify "$url" --cache c3 2>tls.err && grep -q "transferFailed: $url/manifest.json: " tls.err; then
  pass "without the certificate: $(cat tls.err)"
else fail "an untrusted certificate must be refused"; cat tls.err; fi
train=(train --model conv8,pool,flatten,dense16,output --batch-size 16 --seed 3 --epochs 2)
"$dataprep" "${train[@]}" --shards www/set --run-dir local >/dev/null 2>&1
if "$dataprep" "${train[@]}" --shards "$url" --cacert cert.pem --cache c4 --run-dir remote >/dev/null 2>&1 \
  && diff <(cut -d, -f1-5 local/history.csv) <(cut -d, -f1-5 remote/history.csv); then
  pass "train --shards $url: the local history (Range requests in nginx's log: $(grep -c '" 206 ' logs/access.log))"
else fail "train from nginx"; fi

echo "test-nginx: $passed passed, $failed failed"
[ "$failed" = 0 ]
