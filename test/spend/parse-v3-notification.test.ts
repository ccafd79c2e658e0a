import { PayNotifyError } from '../../src/spend/payment-order';
import { parseV3Notification } from '../../src/spend/parse-v3-notification';
import { signV3Message, v3SignatureHeaders, verifyV3Signature } from '../../src/spend/verify-v3-signature';
import { encryptV3Resource } from '../../src/spend/decrypt-v3-resource';
import { SANDBOX_PAY_PLATFORM } from '../../src/sandbox/pay-notifier';
import { APIV3_KEY, APPID, MCH_ID, PLATFORM_KEY_PEM, PLATFORM_KEYS, ROGUE_KEY_PEM, T0, v3 } from './helpers';

const NOW = Math.floor(T0 / 1000);
const opts = { apiV3Key: APIV3_KEY, platformKeys: PLATFORM_KEYS, appIds: [APPID], mchId: MCH_ID, nowSeconds: NOW };
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof PayNotifyError ? err.code : `other: ${String(err)}`;
  }
  return 'accepted';
};
const parse = (n: { body: string; headers: Record<string, string> }, o = opts) => parseV3Notification(v3SignatureHeaders(n.headers), n.body, o);

/** A correctly signed notification around any transaction object. */
function signedAround(transaction: Record<string, unknown>, key = APIV3_KEY) {
  const body = JSON.stringify({
    id: 'EV-1',
    event_type: 'TRANSACTION.SUCCESS',
    resource_type: 'encrypt-resource',
    resource: encryptV3Resource(JSON.stringify(transaction), key, { nonce: 'abcdefghijkl' }),
  });
  const ts = String(NOW);
  return {
    body,
    headers: {
      'wechatpay-timestamp': ts,
      'wechatpay-nonce': 'n1',
      'wechatpay-serial': SANDBOX_PAY_PLATFORM.serial,
      'wechatpay-signature': signV3Message(PLATFORM_KEY_PEM, ts, 'n1', body),
    },
  };
}
const tx = {
  mchid: MCH_ID,
  appid: APPID,
  transaction_id: '4200002026030200000000000009',
  out_trade_no: 'o9',
  trade_state: 'SUCCESS',
  payer: { openid: 'o-9' },
  amount: { total: 30000 },
};

describe('parseV3Notification', () => {
  it('should accept a signed, encrypted notification and translate it', () => {
    expect(parse(v3({ attach: 'promo:x', goodsTag: 'drinks' }))).toEqual({
      kind: 'order',
      order: {
        transactionId: '4200002026030200000000000001',
        outTradeNo: 'out-1',
        appId: APPID,
        mchId: MCH_ID,
        openId: 'o-payer-0001',
        totalFen: 12000,
        paid: true,
        state: 'SUCCESS',
        attach: 'promo:x',
        productTags: ['drinks'],
        paidAt: T0,
        protocol: 'v3',
        tradeType: 'JSAPI',
      },
    });
  });

  it('should refuse a signature made with a key the platform certificate does not hold', () => {
    expect(code(() => parse(v3({}, { platformKeyPem: ROGUE_KEY_PEM })))).toBe('bad_signature');
  });

  it('should refuse a body changed after signing', () => {
    const n = v3();
    expect(code(() => parse({ ...n, body: n.body.replace('TRANSACTION.SUCCESS', 'TRANSACTION.SUCCESS ') }))).toBe('bad_signature');
  });

  it.each(['wechatpay-signature', 'wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-serial'])('should refuse a request without %s', (h) => {
    const n = v3();
    const headers = { ...n.headers };
    delete headers[h as keyof typeof headers];
    expect(code(() => parse({ ...n, headers }))).toMatch(/bad_signature/);
  });

  it("should refuse WeChat Pay's signature probe (WECHATPAY/SIGNTEST/)", () => {
    const n = v3();
    expect(code(() => parse({ ...n, headers: { ...n.headers, 'wechatpay-signature': 'WECHATPAY/SIGNTEST/aGVsbG8=' } }))).toBe('bad_signature');
  });

  it('should refuse an unknown serial', () => {
    expect(code(() => parse(v3({}, { serial: '0123456789ABCDEF' })))).toBe('unknown_serial');
  });

  it('should refuse a timestamp outside the window, both ways, and accept one at its edge', () => {
    expect(code(() => parse(v3({}, { nowSeconds: NOW - 301 })))).toBe('stale');
    expect(code(() => parse(v3({}, { nowSeconds: NOW + 301 })))).toBe('stale');
    expect(code(() => parse(v3({}, { nowSeconds: NOW - 300 })))).toBe('accepted');
  });

  it('should refuse a resource encrypted under another APIv3 key (bad decryption), signed correctly', () => {
    expect(code(() => parse(v3({}, { apiV3Key: 'x'.repeat(32) })))).toBe('bad_decryption');
  });

  it('should refuse another appid and another merchant, even signed and encrypted correctly', () => {
    expect(code(() => parse(signedAround({ ...tx, appid: 'wx1111111111111111' })))).toBe('wrong_appid');
    expect(code(() => parse(signedAround({ ...tx, mchid: '1900000999' })))).toBe('wrong_mchid');
    expect(code(() => parse(signedAround(tx)))).toBe('accepted');
  });

  it('should read a failed payment (trade_state != SUCCESS) as an unpaid order', () => {
    const p = parse(v3({ failed: true }));
    expect(p.kind === 'order' && p.order).toMatchObject({ paid: false, state: 'PAYERROR' });
    const closed = parse(signedAround({ ...tx, trade_state: 'CLOSED' }));
    expect(closed.kind === 'order' && closed.order).toMatchObject({ paid: false, state: 'CLOSED' });
  });

  it('should refuse a paid transaction without openid or with a non-integer amount', () => {
    expect(code(() => parse(signedAround({ ...tx, payer: {} })))).toBe('malformed');
    expect(code(() => parse(signedAround({ ...tx, amount: { total: 1.5 } })))).toBe('malformed');
  });

  it('should ignore a resource that is not a transaction (a refund)', () => {
    const body = JSON.stringify({
      event_type: 'REFUND.SUCCESS',
      resource: encryptV3Resource('{}', APIV3_KEY, { nonce: 'abcdefghijkl', associatedData: 'refund', originalType: 'refund' }),
    });
    const ts = String(NOW);
    const n = {
      body,
      headers: {
        'wechatpay-timestamp': ts,
        'wechatpay-nonce': 'n',
        'wechatpay-serial': SANDBOX_PAY_PLATFORM.serial,
        'wechatpay-signature': signV3Message(PLATFORM_KEY_PEM, ts, 'n', body),
      },
    };
    expect(parse(n).kind).toBe('ignored');
  });
});

describe('verifyV3Signature', () => {
  it('should verify the message timestamp\\nnonce\\nbody\\n', () => {
    const sig = signV3Message(PLATFORM_KEY_PEM, String(NOW), 'abc', '{}');
    expect(() =>
      verifyV3Signature(PLATFORM_KEYS, { signature: sig, timestamp: String(NOW), nonce: 'abc', serial: SANDBOX_PAY_PLATFORM.serial }, '{}', { nowSeconds: NOW }),
    ).not.toThrow();
    expect(() =>
      verifyV3Signature(PLATFORM_KEYS, { signature: sig, timestamp: String(NOW), nonce: 'abd', serial: SANDBOX_PAY_PLATFORM.serial }, '{}', { nowSeconds: NOW }),
    ).toThrow(PayNotifyError);
  });
});
