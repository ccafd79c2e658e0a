/**
 * Which events an `eventKey` condition may name (every event that carries an EventKey), and which menu
 * buttons carry a key: each list is written once (parse-inbound's field rules, inbound.ts's
 * MENU_KEY_EVENTS) and read by the rules compiler and the menu API.
 */
import { KEY_BUTTON_TYPES, MENU_BUTTON_TYPES } from '../../src/api/menu';
import { schemaIssues } from './rules-from';

const one = (match: string) => `rules:\n  - id: r\n    match: ${match}\n    actions: [ { reply: ok } ]\n`;

describe('the keyed events', () => {
  it('should allow an eventKey on every event that carries an EventKey, and name them all when refusing one', () => {
    expect(schemaIssues(one('{ event: LOCATION, eventKey: k }'))).toEqual([
      'rules.yaml:3 rules[0].match.eventKey: eventKey applies only to subscribe, SCAN, CLICK, VIEW, scancode_push, scancode_waitmsg, pic_sysphoto, pic_photo_or_album, pic_weixin, location_select, view_miniprogram events (not LOCATION)',
    ]);
    for (const event of ['subscribe', 'SCAN', 'CLICK', 'VIEW', 'scancode_push', 'pic_weixin', 'location_select', 'view_miniprogram'])
      expect(schemaIssues(one(`{ event: ${event}, eventKey: k }`))).toEqual([]);
  });

  it('should list the menu buttons that carry a key: click and the ones named after the event they push', () => {
    expect(KEY_BUTTON_TYPES).toEqual(['click', 'scancode_push', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select']);
    expect(MENU_BUTTON_TYPES.slice(0, KEY_BUTTON_TYPES.length)).toEqual(KEY_BUTTON_TYPES);
  });
});
