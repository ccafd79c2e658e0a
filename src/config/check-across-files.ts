/**
 * The checks that span config files, each written by the domain that owns the rule and run here over
 * whichever files passed their schema: campaigns against the limits (`rewards`), cards against
 * sub-merchants and card campaigns against cards (`cards`), spend rules against campaigns and limits
 * (`spend`). Issues name the file and path they are about.
 *
 * @example checkAcrossFiles(read.files, read.issueAt, errors);
 */
import { checkCardsConfig } from '../cards/check-cards-config';
import type { ConfigIssue } from '../lib/config-issue';
import { checkCampaignsAgainstLimits } from '../rewards/config-schema';
import { checkSpendRules } from '../spend/spend-schema';
import type { ConfigFileKey, ConfigFiles } from './config-files';
import type { IssueAt } from './read-config-files';

/**
 * Pushes the cross-file errors of the files present in `files` to `errors`.
 *
 * @example checkAcrossFiles({ campaigns, limits }, issueAt, errors)
 */
export function checkAcrossFiles(files: Partial<Record<ConfigFileKey, unknown>>, issueAt: IssueAt, errors: ConfigIssue[]): void {
  const campaignsFile = files.campaigns as ConfigFiles['campaigns'] | undefined;
  const limitsFile = files.limits as ConfigFiles['limits'] | undefined;
  if (campaignsFile && limitsFile) {
    for (const i of checkCampaignsAgainstLimits(campaignsFile.campaigns, limitsFile)) errors.push(issueAt('campaigns', i.path, i.message));
  }
  // Cards against sub-merchants, card campaigns against cards.
  for (const i of checkCardsConfig(files as unknown as Parameters<typeof checkCardsConfig>[0])) errors.push(issueAt(i.file as ConfigFileKey, i.path, i.message));
  // Spend rules against campaigns and limits.
  const spendFile = files.spend as ConfigFiles['spend'] | undefined;
  if (spendFile && campaignsFile) for (const i of checkSpendRules(spendFile, campaignsFile.campaigns, limitsFile)) errors.push(issueAt('spend', i.path, i.message));
}
