#!/usr/bin/env bash
# Makes the PUBLIC, sandbox-only certificates of the built-in WeChat Pay stand-in (src/sandbox/pay-server.ts)
# and writes them to src/sandbox/certs/. They are committed on purpose; nothing real trusts them.
#
#   ca.pem                       sandbox CA (its key is thrown away: nothing new can be signed with it)
#   server.pem / server-key.pem  the sandbox's HTTPS certificate for 127.0.0.1 and localhost
#   apiclient_cert.pem / apiclient_key.pem / apiclient_cert.p12
#                                merchant client certificate, CN = mch_id 1900000109 (SANDBOX_CREDENTIALS.mchId);
#                                the .p12 passphrase is the mch_id, as WeChat Pay issues them
#   other-mch_cert.pem / other-mch_key.pem
#                                a client certificate of the sandbox CA for ANOTHER merchant (1900000999)
#   rogue-ca.pem, rogue_cert.pem / rogue_key.pem
#                                a client certificate for 1900000109 signed by an unrelated CA (negative tests)
#
# Usage: scripts/make-sandbox-certs.sh [OUT_DIR]   (valid 100 years; RSA 2048 like WeChat Pay's)
set -euo pipefail

MCH_ID=1900000109
OTHER_MCH_ID=1900000999
DAYS=36500
OUT="${1:-$(cd "$(dirname "$0")/.." && pwd)/src/sandbox/certs}"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

ca() { # name subject
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$DAYS" -keyout "$1.key" -out "$1.pem" -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

leaf() { # name subject ca-name ext-file
  openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  openssl x509 -req -sha256 -days "$DAYS" -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "0x$(openssl rand -hex 16)" \
    -extfile "$4" -out "$1.pem" 2>/dev/null
}

cat >server.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT
cat >client.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EXT

ca sandbox-ca "/C=CN/O=wechat-bot sandbox (PUBLIC, not a real CA)/CN=wechat-bot sandbox CA"
ca rogue-ca "/C=CN/O=unrelated test CA (PUBLIC)/CN=rogue CA"
leaf server "/C=CN/O=wechat-bot sandbox/CN=127.0.0.1" sandbox-ca server.ext
leaf client "/C=CN/O=wechat-bot sandbox merchant/OU=sandbox/CN=$MCH_ID" sandbox-ca client.ext
leaf other "/C=CN/O=wechat-bot sandbox merchant/OU=sandbox/CN=$OTHER_MCH_ID" sandbox-ca client.ext
leaf rogue "/C=CN/O=wechat-bot sandbox merchant/OU=sandbox/CN=$MCH_ID" rogue-ca client.ext

openssl pkcs12 -export -in client.pem -inkey client.key -name "$MCH_ID" -passout "pass:$MCH_ID" -out client.p12

install -m 644 sandbox-ca.pem "$OUT/ca.pem"
install -m 644 server.pem "$OUT/server.pem"
install -m 644 server.key "$OUT/server-key.pem"
install -m 644 client.pem "$OUT/apiclient_cert.pem"
install -m 644 client.key "$OUT/apiclient_key.pem"
install -m 644 client.p12 "$OUT/apiclient_cert.p12"
install -m 644 other.pem "$OUT/other-mch_cert.pem"
install -m 644 other.key "$OUT/other-mch_key.pem"
install -m 644 rogue-ca.pem "$OUT/rogue-ca.pem"
install -m 644 rogue.pem "$OUT/rogue_cert.pem"
install -m 644 rogue.key "$OUT/rogue_key.pem"

cat >"$OUT/README.md" <<README
# Sandbox certificates — PUBLIC, sandbox-only

These certificates and keys are **public and for the built-in sandbox only** (\`src/sandbox/pay-server.ts\`).
They protect nothing and no real WeChat Pay server or client trusts them. Never use them for a real merchant.
Regenerate with \`scripts/make-sandbox-certs.sh\` (the CA keys are discarded after signing).

| file | what |
|---|---|
| \`ca.pem\` | sandbox CA: signs the server certificate and the merchant client certificate |
| \`server.pem\`, \`server-key.pem\` | HTTPS certificate of the sandbox for 127.0.0.1 / localhost |
| \`apiclient_cert.p12\` | merchant client certificate for mch_id $MCH_ID (passphrase: $MCH_ID, as WeChat Pay issues them) |
| \`apiclient_cert.pem\`, \`apiclient_key.pem\` | the same certificate as a PEM pair |
| \`other-mch_cert.pem\`, \`other-mch_key.pem\` | a sandbox-CA client certificate of another merchant ($OTHER_MCH_ID) |
| \`rogue-ca.pem\`, \`rogue_cert.pem\`, \`rogue_key.pem\` | a client certificate for $MCH_ID from an unrelated CA (negative tests) |
README
echo "sandbox certificates written to $OUT"
