/**
 * cards.yaml, submerchants.yaml and campaigns.yaml are each one mapping of named entries: an empty
 * file or key means none, and every name is checked the same way (one schema helper, namedEntriesFile).
 */
import { cardsFileSchema } from '../../src/cards/card-schema';
import { submerchantsFileSchema } from '../../src/cards/submerchant-schema';
import { campaignsFileSchema } from '../../src/rewards/config-schema';
import { configErrorMap } from '../../src/lib/schema-helpers';
import { fixture } from '../cards/helpers';
import { redCampaign } from '../rewards/helpers';

/** A valid entry of each file (the name check runs once every entry parses). */
const firstOf = (file: string, key: string) => Object.values((fixture(file) as Record<string, Record<string, unknown>>)[key]!)[0];
const FILES = [
  ['cards', cardsFileSchema, 'card', firstOf('cards.yaml', 'cards')],
  ['submerchants', submerchantsFileSchema, 'sub-merchant', firstOf('submerchants.yaml', 'submerchants')],
  ['campaigns', campaignsFileSchema, 'campaign', redCampaign()],
] as const;

describe.each(FILES)('%s file', (key, schema, what, entry) => {
  it('should read an empty file, a null key and an empty mapping as none', () => {
    for (const empty of [null, undefined, { [key]: null }, { [key]: {} }]) expect(schema.parse(empty)).toEqual({ [key]: {} });
  });

  it('should refuse a bad name, at its path, with the rule for names', () => {
    expect(Object.keys(schema.parse({ [key]: { 'good-name_1.0': entry } })[key as never])).toEqual(['good-name_1.0']);
    const r = schema.safeParse({ [key]: { 'good-name': entry, '-bad name': entry, ['x'.repeat(65)]: entry } }, { error: configErrorMap });
    expect(r.error?.issues.map((i) => [i.path, i.message])).toEqual(
      ['-bad name', 'x'.repeat(65)].map((name) => [[key, name], `"${name}" is not a ${what} name (letters, digits, "-", "_", "." — at most 64)`]),
    );
  });

  it('should refuse an unknown top-level key', () => {
    expect(schema.safeParse({ [key]: {}, extra: 1 }).success).toBe(false);
  });
});
