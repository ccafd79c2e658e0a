/**
 * Renders reply values to WeChat's passive-reply XML through the EJS templates in `views/`, and the
 * safe-mode envelope. Templates are read and compiled once, when the renderer is built; rendering does
 * no I/O. User-influenced text reaches the XML only through `cdata()`.
 *
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ejs from 'ejs';
import { cdata } from '../wechat/xml';
import { MAX_NEWS_ARTICLES, type Reply, type ReplyType } from './reply';

// === Types

/** The reply header. The caller swaps: `toUserName` is the follower, `fromUserName` our `gh_` id. */
export interface ReplyHeader {
  /** The follower's openid (the inbound `FromUserName`). */
  toUserName: string;
  /** Our account's original id (the inbound `ToUserName`). */
  fromUserName: string;
  /** Epoch SECONDS. */
  createTime: number;
}

/** The safe-mode envelope fields (protocol doc §2). */
export interface ReplyEnvelope {
  encrypt: string;
  msgSignature: string;
  /** Epoch SECONDS. */
  timeStamp: number;
  nonce: string;
}

/**
 * Turns reply values into XML bodies.
 *
 * @see createReplyRenderer
 */
export interface ReplyRenderer {
  /** The passive-reply XML of `reply`, or the literal `success` for `{ type: 'none' }`. */
  render(reply: Reply, header: ReplyHeader): string;
  /** The safe-mode envelope around an encrypted reply. */
  renderEnvelope(envelope: ReplyEnvelope): string;
}

export interface ReplyRendererOptions {
  /** The folder holding the `*.xml.ejs` templates (normally `views/` at the project root). */
  viewsDir: string;
}

// === Templates

type TemplateName = Exclude<ReplyType, 'none'> | '_head' | 'envelope';

/** One template per reply type, plus the header partial and the envelope: the build breaks on a new type. */
const TEMPLATE_FILES = {
  _head: '_head.xml.ejs',
  text: 'text.xml.ejs',
  image: 'image.xml.ejs',
  voice: 'voice.xml.ejs',
  video: 'video.xml.ejs',
  music: 'music.xml.ejs',
  news: 'news.xml.ejs',
  transfer_customer_service: 'transfer_customer_service.xml.ejs',
  envelope: 'envelope.xml.ejs',
} as const satisfies Record<TemplateName, string>;

/** Variables every template may use; anything else is undefined in strict mode. */
const TEMPLATE_LOCALS = ['cdata', 'head', 'header', 'msgType', 'reply', 'articles', 'envelope'];

/** The locals a view is called with: every name of {@link TEMPLATE_LOCALS}, unset ones undefined. */
interface TemplateLocals {
  cdata: typeof cdata;
  head?: (msgType: string) => string;
  header?: ReplyHeader;
  msgType?: string;
  reply?: Reply;
  articles?: unknown[];
  envelope?: ReplyEnvelope;
}

/**
 * Builds a view's locals with all of {@link TEMPLATE_LOCALS} as own properties, so a view never reads
 * a name through the prototype chain: that is why the views may skip EJS's copy of the locals into a
 * prototype-less object (`unsafePrototypeLocals`), which cost more than rendering a reply's header.
 */
function locals(values: Omit<TemplateLocals, 'cdata'>): TemplateLocals {
  return {
    cdata,
    head: values.head,
    header: values.header,
    msgType: values.msgType,
    reply: values.reply,
    articles: values.articles,
    envelope: values.envelope,
  };
}

type Template = (data: TemplateLocals) => string;

/** The largest epoch-seconds value we accept; a millisecond timestamp is far above it. */
const MAX_EPOCH_SECONDS = 99_999_999_999;

/**
 * Builds a renderer from the templates in `viewsDir`. Reads and compiles every template once; throws an
 * Error naming the missing or broken template file. Rendering never touches the disk.
 *
 * @example
 * const renderer = createReplyRenderer({ viewsDir: path.join(__dirname, 'views') });
 * renderer.render({ type: 'text', content: 'hi' }, { toUserName: m.FromUserName, fromUserName: m.ToUserName, createTime: nowSeconds });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function createReplyRenderer(options: ReplyRendererOptions): ReplyRenderer {
  if (!options || typeof options.viewsDir !== 'string' || options.viewsDir === '') {
    throw new TypeError('createReplyRenderer: viewsDir must be a non-empty path');
  }
  const templates = {} as Record<TemplateName, Template>;
  for (const [name, file] of Object.entries(TEMPLATE_FILES) as [TemplateName, string][]) {
    templates[name] = compileTemplate(join(options.viewsDir, file), name !== 'envelope');
  }

  return {
    render(reply: Reply, header: ReplyHeader): string {
      if (!reply || typeof reply !== 'object') throw new TypeError('render: reply must be a Reply value');
      if (reply.type === 'none') return 'success';
      checkHeader(header);
      const head = (msgType: string): string => templates._head(locals({ header, msgType }));
      const data = locals({ head, header, reply });
      switch (reply.type) {
        case 'text':
        case 'image':
        case 'voice':
        case 'video':
        case 'music':
        case 'transfer_customer_service':
          return templates[reply.type](data);
        case 'news': {
          if (!Array.isArray(reply.articles) || reply.articles.length === 0) {
            throw new Error('render: a news reply needs at least one article');
          }
          return templates.news(locals({ head, header, reply, articles: reply.articles.slice(0, MAX_NEWS_ARTICLES) }));
        }
        default: {
          const unknown: never = reply;
          throw new TypeError(`render: unknown reply type ${JSON.stringify((unknown as { type?: unknown }).type)}`);
        }
      }
    },

    renderEnvelope(envelope: ReplyEnvelope): string {
      if (!envelope || typeof envelope !== 'object') throw new TypeError('renderEnvelope: envelope is required');
      const { encrypt, msgSignature, timeStamp, nonce } = envelope;
      if (typeof encrypt !== 'string' || encrypt === '') throw new TypeError('renderEnvelope: encrypt must be a non-empty string');
      if (typeof msgSignature !== 'string' || !/^[0-9a-f]{40}$/.test(msgSignature)) {
        throw new TypeError('renderEnvelope: msgSignature must be 40 lowercase hex characters');
      }
      if (typeof nonce !== 'string' || nonce === '') throw new TypeError('renderEnvelope: nonce must be a non-empty string');
      checkSeconds(timeStamp, 'renderEnvelope: timeStamp');
      return templates.envelope(locals({ envelope }));
    },
  };
}

/**
 * Reads and compiles one template. `compact`: line breaks (and the indentation after them) between two
 * tags are layout of the template file, not of the reply, and are removed, so templates stay readable
 * while replies are one line. The envelope keeps its lines: its layout is the protocol doc's.
 */
function compileTemplate(file: string, compact: boolean): Template {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`reply template ${file} cannot be read${code ? ` (${code})` : ''}`);
  }
  try {
    // The file's final newline is not part of the reply.
    let text = source.replace(/\r?\n$/, '');
    if (compact) text = text.replace(/>[ \t]*\r?\n\s*</g, '><');
    return ejs.compile(text, {
      filename: file,
      strict: true,
      _with: false,
      destructuredLocals: TEMPLATE_LOCALS,
      // Safe here: locals() gives every destructured name as an own property (see there).
      unsafePrototypeLocals: true,
      client: false,
      async: false,
    } as ejs.Options) as unknown as Template;
  } catch (error) {
    throw new Error(`reply template ${file} does not compile: ${(error as Error).message.split('\n')[0]}`);
  }
}

function checkHeader(header: ReplyHeader): void {
  if (!header || typeof header !== 'object') throw new TypeError('render: header is required');
  if (typeof header.toUserName !== 'string' || header.toUserName === '') {
    throw new TypeError('render: header.toUserName (the follower) must be a non-empty string');
  }
  if (typeof header.fromUserName !== 'string' || header.fromUserName === '') {
    throw new TypeError('render: header.fromUserName (our account) must be a non-empty string');
  }
  checkSeconds(header.createTime, 'render: header.createTime');
}

function checkSeconds(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be a whole number of seconds`);
  if (value > MAX_EPOCH_SECONDS) throw new RangeError(`${name} looks like milliseconds; WeChat wants seconds`);
}
