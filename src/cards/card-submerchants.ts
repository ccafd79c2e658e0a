/**
 * Card job "sub-merchants" (子商户, third-party card issuing): categories, submit, update and status
 * (`card/submerchant/get` for one, `batchget` for all) of submerchants.yaml, kept in the registry.
 *
 * @example await createCardSubmerchants(ctx).submit('cafe')
 * @see https://developers.weixin.qq.com/doc/service/guide/product/card/Third-party_developer_mode.html
 */
import type { SubMerchantCategory } from '../api/submerchant';
import { CardsError, type CardsContext } from './card-context';
import type { SubMerchantRecord } from './card-registry';

/** The sub-merchant operations of the card service. */
export interface CardSubmerchants {
  categories(): Promise<SubMerchantCategory[]>;
  submit(name: string): Promise<SubMerchantRecord>;
  update(name: string): Promise<SubMerchantRecord>;
  /** Refreshes from WeChat (`get` for one, `batchget` for all) and returns the records. */
  status(name?: string): Promise<SubMerchantRecord[]>;
}

/**
 * The sub-merchant operations over the shared card context.
 *
 * @example const subs = createCardSubmerchants(ctx); await subs.status();
 * @see https://developers.weixin.qq.com/doc/service/guide/product/card/Third-party_developer_mode.html
 */
export function createCardSubmerchants(ctx: CardsContext): CardSubmerchants {
  const { deps, config, registry } = ctx;
  return {
    categories: () => deps.api.card.submerchant.categories(),
    async submit(name) {
      const def = config().submerchants[name];
      if (!def) throw new CardsError(`no sub-merchant named "${name}" in submerchants.yaml (defined: ${Object.keys(config().submerchants).join(', ') || 'none'})`);
      const rec = await registry.getSubMerchant(name);
      if (rec.merchantId !== undefined)
        throw new CardsError(`sub-merchant "${name}" was already submitted (merchant_id ${rec.merchantId}); use "submerchant update ${name}"`);
      const info = await deps.api.card.submerchant.submit(def.info);
      return registry.updateSubMerchant(name, (r) =>
        r.merchantId !== undefined ? r : { ...r, merchantId: info.merchantId, status: (info.status as SubMerchantRecord['status']) || 'CHECKING', reason: undefined },
      );
    },
    async update(name) {
      const def = config().submerchants[name];
      if (!def) throw new CardsError(`no sub-merchant named "${name}" in submerchants.yaml`);
      const rec = await registry.getSubMerchant(name);
      if (rec.merchantId === undefined) throw new CardsError(`sub-merchant "${name}" has not been submitted yet; use "submerchant submit ${name}"`);
      const info = await deps.api.card.submerchant.update(rec.merchantId, def.info);
      return registry.updateSubMerchant(name, (r) => ({ ...r, status: (info.status as SubMerchantRecord['status']) || 'CHECKING', reason: undefined }));
    },
    async status(name) {
      const names = name ? [name] : Object.keys(config().submerchants);
      if (name && !config().submerchants[name]) throw new CardsError(`no sub-merchant named "${name}" in submerchants.yaml`);
      const byId = new Map<number, string>();
      if (!name) {
        let begin = 0;
        for (let page = 0; page < 100; page++) {
          const { list, nextBeginId } = await deps.api.card.submerchant.batchGet({ beginId: begin, limit: 100 });
          for (const i of list) byId.set(i.merchantId, i.status);
          if (!nextBeginId || list.length === 0) break;
          begin = nextBeginId;
        }
      }
      const out: SubMerchantRecord[] = [];
      for (const n of names) {
        const rec = await registry.getSubMerchant(n);
        if (rec.merchantId === undefined) {
          out.push(rec);
          continue;
        }
        const status = name ? (await deps.api.card.submerchant.get(rec.merchantId)).status : byId.get(rec.merchantId);
        out.push(
          status && status !== rec.status
            ? await registry.updateSubMerchant(n, (r) => ({ ...r, status: status as SubMerchantRecord['status'], reason: status === 'APPROVED' ? undefined : r.reason }))
            : rec,
        );
      }
      return out;
    },
  };
}
