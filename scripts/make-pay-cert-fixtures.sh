#!/usr/bin/env bash
# Makes the PUBLIC test certificates of test/pay/check-merchant-cert.test.ts and the bot start tests,
# shaped like a real WeChat Pay merchant API certificate, and writes them to test/fixtures/pay/merchant-cert/.
#
#   apiclient_cert.pem / apiclient_key.pem / apiclient_cert.p12
#       subject CN=1900000109 (the sandbox mch_id), O=微信商户系统, OU=<company>, C=CN, L=ShenZhen — the layout of the
#       certificates WeChat Pay issues ("Tenpay.com Root CA", five years); here signed by a throw-away test CA whose key
#       is discarded. The .p12 passphrase is the mch_id, as WeChat Pay issues them.
#
# Valid 100 years. The tests never read the real time: they put an injected clock before, inside, near the end of and
# after the certificate's own validFrom/validTo, so the fixtures do not "expire" in a way that breaks a test.
#
# Usage: scripts/make-pay-cert-fixtures.sh [OUT_DIR]
set -euo pipefail

MCH_ID=1900000109
DAYS=36500
OUT="${1:-$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/pay/merchant-cert}"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$DAYS" -keyout ca.key -out ca.pem -utf8 \
  -subj "/C=CN/O=Tenpay.com (TEST, PUBLIC)/OU=Tenpay.com CA Center (TEST)/CN=Tenpay.com Root CA (TEST)" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
cat >client.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EXT
openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout client.key -out client.csr -utf8 \
  -subj "/CN=$MCH_ID/O=微信商户系统/OU=沙盒测试商户有限公司/C=CN/L=ShenZhen" 2>/dev/null
openssl x509 -req -sha256 -days "$DAYS" -in client.csr -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 20)" \
  -extfile client.ext -out client.pem 2>/dev/null
openssl pkcs12 -export -in client.pem -inkey client.key -name "Tenpay Certificate" -passout "pass:$MCH_ID" -out client.p12

install -m 644 client.pem "$OUT/apiclient_cert.pem"
install -m 644 client.key "$OUT/apiclient_key.pem"
install -m 644 client.p12 "$OUT/apiclient_cert.p12"
cat >"$OUT/README.md" <<README
# Merchant-certificate fixtures — PUBLIC, tests only

Made by \`scripts/make-pay-cert-fixtures.sh\`. Shaped like a WeChat Pay merchant API certificate: subject
\`CN=$MCH_ID, O=微信商户系统, OU=沙盒测试商户有限公司, C=CN, L=ShenZhen\`, signed by a throw-away test CA (key discarded),
valid 100 years. \`apiclient_cert.p12\` holds the same certificate and key, passphrase \`$MCH_ID\`.
Tests judge them with an injected clock placed relative to the certificate's own dates, never the real time.
README
echo "merchant-certificate fixtures written to $OUT"
