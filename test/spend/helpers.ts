/**
 * Shared builders for the spend tests: keys, a v2/v3 notification factory, spend rules, and a payment
 * stack (memory or SQLite orders + a real ledger + createRewards) behind the real notify router.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { fixedClock, type ManualClock } from '../../src/lib/clock';
import { type Logger, silentLogger } from '../../src/lib/logger';
import type { RewardsConfig } from '../../src/rewards/config-schema';
import { rewardsConfigSchema } from '../../src/config/reward-kinds';
import type { Ledger } from '../../src/rewards/ledger';
import { createRewards, type Rewards } from '../../src/rewards/rewards';
import { buildV2Notification, buildV3Notification, SANDBOX_PAY_PLATFORM, type SandboxPaymentInput } from '../../src/sandbox/pay-notifier';
import { createPayNotifyRouter } from '../../src/spend/create-pay-notify-router';
import { createPaymentHandler } from '../../src/spend/handle-payment';
import type { OrderStore } from '../../src/spend/order-store';
import { spendFileSchema, type SpendConfig } from '../../src/spend/spend-schema';
import { loadPlatformKeys } from '../../src/spend/verify-v3-signature';
import { createMemoryOrderStore } from '../../src/store/memory-orders';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { SPEND_PACKET } from './write-spend-config';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

/** 2026-03-02 10:00 Beijing time (outside quiet hours). */
export const T0 = Date.parse('2026-03-02T10:00:00+08:00');
export const APPID = SANDBOX_CREDENTIALS.appId;
export const MCH_ID = SANDBOX_CREDENTIALS.mchId;
export const KEY = SANDBOX_CREDENTIALS.payKey;
export const APIV3_KEY = SANDBOX_CREDENTIALS.apiV3Key;
export const PLATFORM_KEY_PEM = fs.readFileSync(SANDBOX_PAY_PLATFORM.key, 'utf8');
export const PLATFORM_KEYS = loadPlatformKeys([{ path: SANDBOX_PAY_PLATFORM.cert }]);

/** A key pair nobody trusts (forged v3 signatures). */
export const ROGUE_KEY_PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

export function payment(overrides: Partial<SandboxPaymentInput> = {}): SandboxPaymentInput {
  return {
    appId: APPID,
    mchId: MCH_ID,
    openId: 'o-payer-0001',
    totalFen: 12000,
    transactionId: '4200002026030200000000000001',
    outTradeNo: 'out-1',
    paidAt: T0,
    ...overrides,
  };
}

export function v2(overrides: Partial<SandboxPaymentInput> = {}, signType: 'MD5' | 'HMAC-SHA256' = 'MD5', key: string = KEY): string {
  return buildV2Notification(payment(overrides), key, signType);
}

export function v3(overrides: Partial<SandboxPaymentInput> = {}, o: { nowSeconds?: number; apiV3Key?: string; platformKeyPem?: string; serial?: string } = {}) {
  return buildV3Notification(payment(overrides), {
    apiV3Key: o.apiV3Key ?? APIV3_KEY,
    nowSeconds: o.nowSeconds ?? Math.floor(T0 / 1000),
    platformKeyPem: o.platformKeyPem ?? PLATFORM_KEY_PEM,
    serial: o.serial,
  });
}

/** The campaign and limits the spend tests grant from (YAML shape). */
export function rewardsConfig(campaign: Record<string, unknown> = {}): RewardsConfig {
  return rewardsConfigSchema.parse({
    campaigns: {
      campaigns: {
        'spend-packet': {
          ...SPEND_PACKET,
          budget: 10_000,
          max_packets: 1000,
          per_user: 100,
          ...campaign,
        },
      },
    },
    limits: { quiet_hours: 'off' },
  });
}

export const SPEND_YAML = {
  rules: [
    {
      id: 'spend-100',
      campaign: 'spend-packet',
      tiers: [
        { min: 100, amount: 10 },
        { min: 300, amount: 30 },
      ],
    },
  ],
};

export function spendConfig(raw: unknown = SPEND_YAML): SpendConfig {
  return spendFileSchema.parse(raw);
}

/** The notify stack: router + handler + rewards + ledger + orders, on a Koa app. */
export interface PayStack {
  app: Koa;
  orders: OrderStore;
  ledger: Ledger;
  rewards: Rewards;
  clock: ManualClock;
  /** The notify router alone (to mount it elsewhere, e.g. on createWebhook's `routers`). */
  router: ReturnType<typeof createPayNotifyRouter>;
}

export function payStack(
  o: {
    orders?: OrderStore;
    ledger?: Ledger;
    rewards?: Rewards;
    spend?: SpendConfig | (() => SpendConfig);
    config?: RewardsConfig;
    maxBodyBytes?: number;
    log?: Logger;
  } = {},
): PayStack {
  const clock = fixedClock(T0);
  const log = o.log ?? silentLogger();
  const ledger = o.ledger ?? withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() }));
  const config = o.config ?? rewardsConfig();
  const rewards = o.rewards ?? createRewards({ ledger, config: () => config, clock, mchId: MCH_ID, log });
  const orders = o.orders ?? createMemoryOrderStore();
  const fixed = o.spend ?? spendConfig();
  const spend = typeof fixed === 'function' ? fixed : () => fixed;
  const handle = createPaymentHandler({ orders, rewards, spend, clock, log });
  const router = createPayNotifyRouter({
    v2: { key: KEY },
    v3: { apiV3Key: APIV3_KEY, platformKeys: PLATFORM_KEYS },
    appIds: [APPID],
    mchId: MCH_ID,
    handle,
    log,
    clock,
    maxBodyBytes: o.maxBodyBytes,
  });
  const app = new Koa();
  app.silent = true;
  app.use(router.routes());
  return { app, router, orders, ledger, rewards, clock };
}

export function tempDir(prefix = 'spend-'): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
