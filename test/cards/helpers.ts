/**
 * A card rig over real loopback: the API sandbox (with its card side), a webhook receiver that checks
 * WeChat's signature, parses the XML and hands card events to `handleCardEvent`, a real SQLite store
 * and ledger, the rewards service and the outbox worker with the card sender.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { createApiClient, type ApiClient } from '../../src/api/client';
import { createTokenProvider } from '../../src/api/access-token';
import { cardsFileSchema } from '../../src/cards/card-schema';
import { createCards, handleCardEvent, type Cards, type CardsConfig } from '../../src/cards/cards';
import { submerchantsFileSchema } from '../../src/cards/submerchant-schema';
import { fixedClock, type ManualClock } from '../../src/lib/clock';
import { silentLogger, type Logger } from '../../src/lib/logger';
import { defaultLimits } from '../../src/rewards/config-schema';
import { campaignsFileSchema, REWARD_KINDS } from '../../src/config/reward-kinds';
import { createOutboxWorker, type OutboxWorker } from '../../src/rewards/outbox-worker';
import { createRewards, type Rewards } from '../../src/rewards/rewards';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';
import { SqliteStore } from '../../src/store/sqlite';
import { parseInboundXml } from '../../src/wechat/parse-inbound';
import { checkSignature } from '../../src/wechat/signature';
import { isCardEvent, type CardEvent } from '../../src/wechat/inbound';
import type { CardEventResult } from '../../src/cards/cards';
import type { MemberStoreWithNumbers } from '../../src/cards/member-store';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { sqliteLedger, tempDir } from '../rewards/helpers';

/** 2026-03-02 10:00 Beijing time. */
export const T0 = Date.parse('2026-03-02T10:00:00+08:00');
export const WEBHOOK_TOKEN = 'cardtesttoken';

/** A card event as WeChat pushes it (to the bot's account `gh_x`), from its fields. */
export function cardEvent(openId: string, createTime: number, fields: Record<string, string>): CardEvent {
  return { ToUserName: 'gh_x', FromUserName: openId, CreateTime: createTime, MsgType: 'event', ...fields } as unknown as CardEvent;
}

/** A complete one-click activation form of the fixture's `cafe-member` (mobile, name, favourite shop). */
export const MEMBER_FORM = {
  commonFields: [
    { name: 'USER_FORM_INFO_FLAG_MOBILE', value: '13800000000' },
    { name: 'USER_FORM_INFO_FLAG_NAME', value: '王小明' },
  ],
  customFields: [{ name: '常去门店', value: '人民路店' }],
};

export function fixture(name: string): unknown {
  return YAML.parse(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8'));
}

export function loadCardsConfig(): CardsConfig {
  return {
    cards: cardsFileSchema.parse(fixture('cards.yaml')).cards,
    submerchants: submerchantsFileSchema.parse(fixture('submerchants.yaml')).submerchants,
    campaigns: campaignsFileSchema.parse(fixture('campaigns.yaml')).campaigns,
  };
}

export interface CardRig {
  clock: ManualClock;
  sandbox: ApiSandbox;
  api: ApiClient;
  cards: Cards;
  rewards: Rewards;
  worker: OutboxWorker;
  ledger: ReturnType<typeof sqliteLedger>['ledger'];
  config: CardsConfig;
  /** Results of the events the webhook handled, in order. */
  handled: CardEventResult[];
  /** Requests the webhook refused (bad signature). */
  refused: number;
  close(): Promise<void>;
}

export async function startCardRig(
  configure: (c: CardsConfig) => CardsConfig = (c) => c,
  opts: { log?: Logger; members?: MemberStoreWithNumbers } = {},
): Promise<CardRig> {
  const clock = fixedClock(T0);
  const tmp = tempDir('cards-');
  const store = SqliteStore.open(path.join(tmp.dir, 'kv.sqlite'));
  const led = sqliteLedger();
  const config = configure(loadCardsConfig());
  const log = opts.log ?? silentLogger();
  const handled: CardEventResult[] = [];
  const rigState = { refused: 0 };
  // eslint-disable-next-line prefer-const -- the webhook below closes over `cards` before createCards() can be called
  let cards!: Cards;

  // The bot's webhook: signature → XML → typed event → handleCardEvent.
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const q = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
      if (!checkSignature(WEBHOOK_TOKEN, q)) {
        rigState.refused++;
        res.writeHead(401).end();
        return;
      }
      const message = parseInboundXml(Buffer.concat(chunks).toString('utf8'));
      if (!isCardEvent(message)) {
        res.end('success');
        return;
      }
      handleCardEvent(message, { cards })
        .then((r) => {
          handled.push(r);
          res.end('success');
        })
        .catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wechat`;

  const sandbox = await startApiSandbox({ clock, cards: { webhook: { url: webhookUrl, token: WEBHOOK_TOKEN } } });
  const tokens = createTokenProvider({ ...sandbox.credentials, baseUrl: sandbox.url, store: store.kv, clock });
  const api = createApiClient({ baseUrl: sandbox.url, tokens, store: store.kv, clock, timeoutMs: 2000 });
  cards = createCards({ api, kv: store.kv, ledger: led.ledger, members: opts.members, config: () => config, clock, log });
  const rewards = createRewards({
    ledger: led.ledger,
    config: () => ({ campaigns: config.campaigns as never, limits: defaultLimits() }),
    clock,
    mchId: SANDBOX_CREDENTIALS.mchId!,
    log,
    kinds: REWARD_KINDS,
  });
  const worker = createOutboxWorker({
    ledger: led.ledger,
    redpack: {
      send: async () => {
        throw new Error('no red packets in the card rig');
      },
      query: async () => {
        throw new Error('no red packets in the card rig');
      },
    },
    counters: store.counters,
    clock,
    log,
    config: () => ({ campaigns: config.campaigns as never, limits: defaultLimits() }),
    ratePerSecond: Infinity,
    senders: { card: (g, ctx) => cards.sendGrant(g, ctx) },
  });
  return {
    clock,
    sandbox,
    api,
    cards,
    rewards,
    worker,
    ledger: led.ledger,
    config,
    handled,
    get refused() {
      return rigState.refused;
    },
    async close() {
      await worker.stop();
      await sandbox.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await store.close();
      await led.close();
      tmp.remove();
    },
  };
}
