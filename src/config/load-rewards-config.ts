/**
 * Reads `campaigns.yaml` and `limits.yaml` from the config folder, validates them together and returns
 * the parsed {@link RewardsConfig} (amounts in fen). A missing `limits.yaml` means every default; a
 * missing `campaigns.yaml` means no campaigns. Errors name the file and the path. Campaigns may be of
 * every kind of `REWARD_KINDS` (./reward-kinds.ts).
 *
 * @example const config = loadRewardsConfig(settings.configDir); config.campaigns['welcome-packet'];
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { checkCampaignsAgainstLimits, limitsFileSchema, type RewardsConfig } from '../rewards/config-schema';
import { campaignsFileSchema } from './reward-kinds';

/** One problem in a rewards config file. */
export interface RewardsConfigProblem {
  file: string;
  path: string;
  message: string;
}

/** The rewards config is invalid; `problems` lists every issue with its file and path. */
export class RewardsConfigError extends Error {
  override readonly name = 'RewardsConfigError';
  constructor(readonly problems: RewardsConfigProblem[]) {
    super(problems.map((p) => `${p.file}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n'));
  }
}

function pathText(p: readonly PropertyKey[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

/**
 * Parses the two files' texts (undefined = file absent).
 *
 * @example parseRewardsConfig({ campaigns: 'campaigns: {}', limits: undefined })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function parseRewardsConfig(texts: { campaigns?: string; limits?: string }): RewardsConfig {
  const problems: RewardsConfigProblem[] = [];
  const read = (file: string, text: string | undefined): unknown => {
    if (text === undefined) return undefined;
    const doc = YAML.parseDocument(text);
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push({ file, path: '', message: e.message });
      return undefined;
    }
    return doc.toJS();
  };
  const campaignsRaw = read('campaigns.yaml', texts.campaigns);
  const limitsRaw = read('limits.yaml', texts.limits);
  if (problems.length > 0) throw new RewardsConfigError(problems);
  const campaigns = campaignsFileSchema.safeParse(campaignsRaw);
  const limits = limitsFileSchema.safeParse(limitsRaw);
  if (!campaigns.success) for (const i of campaigns.error.issues) problems.push({ file: 'campaigns.yaml', path: pathText(i.path), message: i.message });
  if (!limits.success) for (const i of limits.error.issues) problems.push({ file: 'limits.yaml', path: pathText(i.path), message: i.message });
  if (campaigns.success && limits.success)
    for (const i of checkCampaignsAgainstLimits(campaigns.data.campaigns, limits.data))
      problems.push({ file: 'campaigns.yaml', path: pathText(i.path), message: i.message });
  if (problems.length > 0 || !campaigns.success || !limits.success) throw new RewardsConfigError(problems);
  return { campaigns: campaigns.data.campaigns, limits: limits.data };
}

/**
 * Reads both files from `dir` and parses them.
 *
 * @example loadRewardsConfig('config')
 * @throws RewardsConfigError
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function loadRewardsConfig(dir: string): RewardsConfig {
  const readIfExists = (name: string) => {
    const file = path.join(dir, name);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  };
  return parseRewardsConfig({ campaigns: readIfExists('campaigns.yaml'), limits: readIfExists('limits.yaml') });
}
