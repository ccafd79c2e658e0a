/**
 * The shape of the Pay sandbox's route tables: one entry per WeChat Pay endpoint, with the business
 * of a request that passed the transport checks (client certificate, signature) and the faults. A
 * leaf of the Pay sandbox: the areas and the server depend on it.
 *
 * @example export const queryRoutes: PayRouteTable = [{ path: '/mmpaymkttransfers/gethbinfo', endpoint: 'gethbinfo', kind: 'query', handle: (state, f) => … }];
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { PayState } from './pay-state';
import type { PaySandboxEndpoint } from './pay-validate';

/** What the business of one request answers. */
export interface PayOutcome {
  /** The answer fields (signed by the server as `answerSign` says). */
  answer: Record<string, string>;
  /** Whether this request paid (sends; a query never pays). */
  paid?: boolean;
  /** gethbinfo: the `<hblist>` XML of the packet's receivers. */
  hblist?: string;
}

/** One endpoint. */
export interface PayRoute {
  /** The URL path, e.g. `/mmpaymkttransfers/sendredpack`. */
  path: string;
  endpoint: PaySandboxEndpoint;
  /**
   * `send` pays (a lost answer may still have paid; PROCESSING and bad signatures apply; answers are
   * signed unless `answerSign` is `none`); `query` only reads (signed with `answerSign: 'all'`).
   */
  kind: 'send' | 'query';
  /** `processing`: pay with status SENDING and answer PROCESSING (sends only). */
  handle(state: PayState, fields: Record<string, string>, opts: { processing: boolean }): PayOutcome;
}

/** The endpoints of one area. */
export type PayRouteTable = readonly PayRoute[];
