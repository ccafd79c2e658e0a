/**
 * Parametric QR codes (`qrcode/create`), so operators can make campaign codes. A follower who scans one
 * arrives as a `subscribe` (with `qrscene_` prefix, stripped by the parser) or `SCAN` event carrying
 * the scene.
 *
 * - Temporary: `QR_SCENE` (numeric scene, 32-bit non-zero) / `QR_STR_SCENE` (string, 1–64 chars), with
 *   `expire_seconds` ≤ 2 592 000 (30 days).
 * - Permanent: `QR_LIMIT_SCENE` (1–100 000) / `QR_LIMIT_STR_SCENE` (string, 1–64 chars); an account may
 *   hold 100 000 of them.
 *
 * @example const { showUrl } = await api.qrcode.create({ scene: 'spring', expireSeconds: 604800 });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
 */
import type { ApiRequest } from './request';

/** Longest temporary code WeChat issues: 30 days. */
export const MAX_QR_EXPIRE_SECONDS = 2_592_000;

/** `action_name` of `qrcode/create`: temporary (`QR_…`) or permanent (`QR_LIMIT_…`), numeric or string scene. */
export type QrActionName = 'QR_SCENE' | 'QR_STR_SCENE' | 'QR_LIMIT_SCENE' | 'QR_LIMIT_STR_SCENE';

/** What to create: the scene and, for a temporary code, its lifetime. */
export interface QrCodeRequest {
  /** A number selects the numeric scene (`scene_id`), a string the string scene (`scene_str`). */
  scene: number | string;
  /** Present: a temporary code valid this long. Absent: a permanent code. */
  expireSeconds?: number;
}

/** A created QR code. */
export interface QrCode {
  ticket: string;
  /** The URL encoded in the QR image (to render your own). */
  url: string;
  /** Seconds of validity (temporary codes only). */
  expireSeconds?: number;
  /** Where the QR image is downloaded: `https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=…`. */
  showUrl: string;
  actionName: QrActionName;
}

/**
 * The image URL of a ticket (the ticket is URL-encoded).
 * @example qrcodeShowUrl('gQH47joAAAAAAAAAASxod') // https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQH47joAAAAAAAAAASxod
 * @see https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
 */
export function qrcodeShowUrl(ticket: string): string {
  return `https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=${encodeURIComponent(ticket)}`;
}

/**
 * The `qrcode/create` body for a request, validating scene and expiry as WeChat does.
 * @example buildQrCodeBody({ scene: 123, expireSeconds: 60 })
 *   // { expire_seconds: 60, action_name: 'QR_SCENE', action_info: { scene: { scene_id: 123 } } }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
 */
export function buildQrCodeBody(req: QrCodeRequest): { expire_seconds?: number; action_name: QrActionName; action_info: { scene: Record<string, unknown> } } {
  const temporary = req.expireSeconds !== undefined;
  if (temporary) {
    const e = req.expireSeconds as number;
    if (!Number.isInteger(e) || e < 1 || e > MAX_QR_EXPIRE_SECONDS)
      throw new RangeError(`qrcode: expireSeconds must be a whole number of seconds from 1 to ${MAX_QR_EXPIRE_SECONDS} (30 days)`);
  }
  let actionName: QrActionName;
  let scene: Record<string, unknown>;
  if (typeof req.scene === 'number') {
    const id = req.scene;
    if (temporary) {
      if (!Number.isInteger(id) || id === 0 || id < -2147483648 || id > 4294967295)
        throw new RangeError('qrcode: a temporary numeric scene must be a non-zero 32-bit integer');
    } else if (!Number.isInteger(id) || id < 1 || id > 100_000) {
      throw new RangeError('qrcode: a permanent numeric scene must be from 1 to 100000 (use a string scene for more)');
    }
    actionName = temporary ? 'QR_SCENE' : 'QR_LIMIT_SCENE';
    scene = { scene_id: id };
  } else if (typeof req.scene === 'string') {
    if (req.scene.length < 1 || req.scene.length > 64) throw new RangeError('qrcode: a string scene must be 1–64 characters');
    actionName = temporary ? 'QR_STR_SCENE' : 'QR_LIMIT_STR_SCENE';
    scene = { scene_str: req.scene };
  } else {
    throw new TypeError('qrcode: scene must be a number or a string');
  }
  return temporary ? { expire_seconds: req.expireSeconds, action_name: actionName, action_info: { scene } } : { action_name: actionName, action_info: { scene } };
}

/**
 * `api.qrcode`.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
 */
export interface QrCodeApi {
  /** Creates a temporary (with `expireSeconds`) or permanent scene code. */
  create(request: QrCodeRequest): Promise<QrCode>;
}

/**
 * Builds `api.qrcode` over the client's request function.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
 */
export function createQrCodeApi(request: ApiRequest): QrCodeApi {
  return {
    async create(req) {
      const body = buildQrCodeBody(req);
      const res = await request<{ ticket: string; url: string; expire_seconds?: number }>('POST', '/cgi-bin/qrcode/create', { body });
      const out: QrCode = { ticket: res.ticket, url: res.url, showUrl: qrcodeShowUrl(res.ticket), actionName: body.action_name };
      if (typeof res.expire_seconds === 'number') out.expireSeconds = res.expire_seconds;
      return out;
    },
  };
}
