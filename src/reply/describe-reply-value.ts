/**
 * A reply value in readable lines (its type, then its text or articles, indented): the reply
 * `rules explain` previews and the console's rule tester shows beside the XML.
 *
 * @example describeReplyValue({ type: 'text', content: 'Hi' }) // ['text', '  Hi']
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
import type { Reply } from './reply';

/** Reply value → readable lines. */
export function describeReplyValue(r: Reply): string[] {
  switch (r.type) {
    case 'text':
      return ['text', ...r.content.split('\n').map((l) => `  ${l}`)];
    case 'news':
      return [
        `news (${r.articles.length} article${r.articles.length === 1 ? '' : 's'})`,
        ...r.articles.map((a, i) => `  ${i + 1}. ${a.title}${a.url ? ` — ${a.url}` : ''}`),
      ];
    case 'transfer_customer_service':
      return [`transfer to customer service${r.kfAccount ? ` (agent ${r.kfAccount})` : ''}`];
    case 'none':
      return ['none (WeChat gets "success")'];
    case 'image':
    case 'voice':
      return [`${r.type} ${r.mediaId}`];
    case 'video':
      return [`video ${r.mediaId}${r.title ? ` "${r.title}"` : ''}`];
    case 'music':
      return [`music ${r.title ?? ''} (${r.musicUrl ?? r.thumbMediaId})`];
  }
}
