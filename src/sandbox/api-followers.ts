/**
 * The followers the API sandbox knows: who follows, since when, and when they last interacted — what
 * decides 40003 (unknown openid) and 45015 (outside the 48-hour customer-service window). In
 * playground mode (`acceptAnyFollower`) an unknown openid counts as a follower who just interacted.
 *
 * @example touch(state, 'o_follower'); requireReachable(state, 'o_follower'); // no throw
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
 */
import { fail } from './api-route';
import type { ApiState, SandboxFollower } from './api-state';

/** Makes `openId` a follower (again) at `atMs`; keeps the first follow time of a current follower. */
export function follow(state: ApiState, openId: string, atMs = state.config.clock.now()): SandboxFollower {
  const f = state.followers.get(openId);
  if (f) {
    if (!f.subscribed) {
      f.subscribed = true;
      f.subscribedAt = atMs;
    }
    return f;
  }
  const created: SandboxFollower = { openId, subscribed: true, subscribedAt: atMs };
  state.followers.set(openId, created);
  return created;
}

/** Records an interaction of `openId` (following them first if needed). */
export function touch(state: ApiState, openId: string, atMs = state.config.clock.now()): void {
  follow(state, openId, atMs).lastInteractionAt = atMs;
}

export function unfollow(state: ApiState, openId: string): void {
  const f = state.followers.get(openId);
  if (f) f.subscribed = false;
}

/** The follower, or (playground mode) one made up for an unknown openid. */
export function knownFollower(state: ApiState, openId: string): SandboxFollower | undefined {
  const f = state.followers.get(openId);
  if (f || !state.config.acceptAnyFollower) return f;
  const created = follow(state, openId);
  created.lastInteractionAt = state.config.clock.now();
  return created;
}

/** The openid of a follower a customer-service message may reach now; 40003 / 45015 otherwise. */
export function requireReachable(state: ApiState, openId: unknown): string {
  if (typeof openId !== 'string' || openId === '') return fail(40003, 'invalid openid');
  const f = knownFollower(state, openId);
  if (!f) return fail(40003, 'invalid openid');
  if (!f.subscribed || f.lastInteractionAt === undefined || state.config.clock.now() - f.lastInteractionAt > state.config.interactionWindowMs)
    fail(45015, 'response out of time limit or subscription is canceled');
  return openId;
}
