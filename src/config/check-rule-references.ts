/**
 * Checks what the actions of `rules.yaml` name in other files: every `grant:` names a campaign of
 * `campaigns.yaml` (with the closest name and the defined ones in the message). Also, when the rules
 * file failed its schema, that its rule ids are unique (the compiled rules check that otherwise).
 *
 * @example checkGrantCampaigns(actionSites(rule.actions, path).actions, ['welcome-packet'], issueAt, errors);
 */
import type { ConfigIssue } from '../lib/config-issue';
import { didYouMean } from '../lib/closest-name';
import type { Action } from '../rules/actions';
import { duplicateRuleIds } from '../rules/compile-rules';
import { CONFIG_FILES } from './config-files';
import { rawRuleIds } from './name-rule-issues';
import type { IssueAt, Path } from './read-config-files';

/**
 * Pushes an error for each grant whose campaign is not defined; nothing when the campaign names
 * cannot be known (campaigns.yaml unreadable).
 *
 * @example checkGrantCampaigns([{ action: { type: 'grant', campaign: 'welcom' }, path: ['welcome', 0] }], ['welcome'], issueAt, errors)
 */
export function checkGrantCampaigns(
  actions: readonly { action: Action; path: Path }[],
  campaignNames: readonly string[] | undefined,
  issueAt: IssueAt,
  errors: ConfigIssue[],
): void {
  if (campaignNames === undefined) return;
  for (const { action, path: p } of actions) {
    if (action.type !== 'grant' || campaignNames.includes(action.campaign)) continue;
    errors.push(
      issueAt(
        'rules',
        [...p, 'grant'],
        `campaign "${action.campaign}" is not defined in ${CONFIG_FILES.campaigns.file}${didYouMean(action.campaign, campaignNames)} (${
          campaignNames.length > 0 ? `defined: ${campaignNames.join(', ')}` : 'no campaigns are defined'
        })`,
      ),
    );
  }
}

/**
 * The duplicate rule ids of a rules file that failed its schema, read from its raw YAML.
 *
 * @example checkRawRuleIds({ rules: [{ id: 'a' }, { id: 'a' }] }, issueAt, errors)
 */
export function checkRawRuleIds(raw: unknown, issueAt: IssueAt, errors: ConfigIssue[]): void {
  for (const e of duplicateRuleIds(rawRuleIds(raw))) errors.push(issueAt('rules', e.path, e.message));
}
