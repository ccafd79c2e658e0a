/**
 * The registry of operator config files: one entry per file, `{ file, schema, optional }`. Adding a
 * file (say `cards.yaml`) is one entry here; `loadConfig()` then reads, validates and exposes it as
 * `config.files.cards`, typed from its schema. A missing optional file is parsed as empty (`null`),
 * so each schema decides what "empty" means.
 *
 * @example CONFIG_FILES.rules.file // 'rules.yaml'
 * @see https://github.com/probot/probot/blob/master/src/context.ts
 */
import type { z } from 'zod';
import { rulesFileSchema } from '../rules/schema';
import { limitsFileSchema } from '../rewards/config-schema';
import { campaignsFileSchema } from './reward-kinds';
import { menuFileSchema } from './menu-schema';
import { cardsFileSchema } from '../cards/card-schema';
import { submerchantsFileSchema } from '../cards/submerchant-schema';
import { spendFileSchema } from '../spend/spend-schema';

export interface ConfigFileSpec {
  /** File name inside the config folder. */
  readonly file: string;
  /** Validates the parsed YAML (`null` for an empty or absent file) and yields the typed value. */
  readonly schema: z.ZodType;
  /** When false, a missing file is an error. */
  readonly optional: boolean;
}

/**
 * Every config file. Keys become `BotConfig.files.<key>`.
 *
 * @example for (const [key, spec] of Object.entries(CONFIG_FILES)) console.log(key, spec.file)
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Overview.html
 */
export const CONFIG_FILES = {
  rules: { file: 'rules.yaml', schema: rulesFileSchema, optional: false },
  menu: { file: 'menu.yaml', schema: menuFileSchema, optional: true },
  campaigns: { file: 'campaigns.yaml', schema: campaignsFileSchema, optional: true },
  limits: { file: 'limits.yaml', schema: limitsFileSchema, optional: true },
  cards: { file: 'cards.yaml', schema: cardsFileSchema, optional: true },
  submerchants: { file: 'submerchants.yaml', schema: submerchantsFileSchema, optional: true },
  spend: { file: 'spend.yaml', schema: spendFileSchema, optional: true },
} as const satisfies Record<string, ConfigFileSpec>;

export type ConfigFileKey = keyof typeof CONFIG_FILES;

/** The parsed content of every config file, typed from the registry. */
export type ConfigFiles = { readonly [K in ConfigFileKey]: z.output<(typeof CONFIG_FILES)[K]['schema']> };
