/**
 * Parametric QR codes (`qrcode/create`): temporary (`QR_SCENE`, `QR_STR_SCENE`, expiry clamped to
 * 1 s–30 days, default 60 s) and permanent (`QR_LIMIT_SCENE` ids 1–100 000, `QR_LIMIT_STR_SCENE`),
 * scene strings of 1–64 characters; 40053 / 40052 otherwise. Made codes are listed in `sandbox.qrcodes`.
 *
 * @example const { ticket } = await api.qrcode.create({ scene: 'spring', expireSeconds: 86400 });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
 */
import { randomBytes } from 'node:crypto';
import { fail, type ApiRouteTable } from './api-route';

/** The scene id or string of a request, checked for its action. */
function sceneOf(action: unknown, scene: Record<string, unknown>): string | number {
  if (action === 'QR_SCENE' || action === 'QR_LIMIT_SCENE') {
    const id = scene.scene_id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id === 0) fail(40053, 'invalid action info');
    if (action === 'QR_LIMIT_SCENE' && ((id as number) < 1 || (id as number) > 100_000)) fail(40053, 'invalid action info');
    return id as number;
  }
  if (action === 'QR_STR_SCENE' || action === 'QR_LIMIT_STR_SCENE') {
    const s = scene.scene_str;
    if (typeof s !== 'string' || s.length < 1 || s.length > 64) fail(40053, 'invalid action info');
    return s as string;
  }
  return fail(40052, 'invalid action name');
}

export const qrcodeRoutes: ApiRouteTable = [
  {
    method: 'POST',
    path: '/cgi-bin/qrcode/create',
    handle(req, state) {
      const body = req.json();
      const action = body.action_name;
      const scene = ((body.action_info as { scene?: Record<string, unknown> } | undefined)?.scene ?? {}) as Record<string, unknown>;
      const sceneValue = sceneOf(action, scene);
      const ticket = `gQ${randomBytes(30).toString('base64')}`;
      const url = `http://weixin.qq.com/q/${randomBytes(16).toString('base64url')}`;
      if (action === 'QR_SCENE' || action === 'QR_STR_SCENE') {
        const requested = typeof body.expire_seconds === 'number' ? body.expire_seconds : 60;
        const expire = Math.min(Math.max(1, Math.floor(requested)), 2_592_000);
        state.qrcodes.push({ ticket, actionName: action, scene: sceneValue, expireSeconds: expire });
        return { ticket, expire_seconds: expire, url };
      }
      state.qrcodes.push({ ticket, actionName: action as string, scene: sceneValue });
      return { ticket, url };
    },
  },
];
