import { ticketKey } from '../../src/api/ticket';
import { fixedClock } from '../../src/lib/clock';
import { startHarness, type Harness } from './helpers/api-harness';

describe('api.ticket', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('should fetch the card ticket once and serve it from the store', async () => {
    h = await startHarness();
    const got = await Promise.all([h.api.ticket.getCardTicket(), h.api.ticket.getCardTicket(), h.api.ticket.getCardTicket()]);
    expect(new Set(got).size).toBe(1);
    expect(await h.api.ticket.getCardTicket()).toBe(got[0]);
    expect(h.sandbox.ticketFetches).toBe(1);
    expect(h.sandbox.calls.find((c) => c.path === '/cgi-bin/ticket/getticket')).toBeDefined();
    expect(await h.store.kv.get(ticketKey(h.api.appId, 'wx_card'))).toContain(got[0]);
  });

  it('should refetch 5 minutes before the ticket expires', async () => {
    const clock = fixedClock(Date.parse('2026-03-01T08:00:00+08:00'));
    h = await startHarness({ clock });
    const first = await h.api.ticket.getCardTicket();
    clock.advance((7200 - 301) * 1000);
    expect(await h.api.ticket.getCardTicket()).toBe(first);
    clock.advance(2000);
    expect(await h.api.ticket.getCardTicket()).not.toBe(first);
    expect(h.sandbox.ticketFetches).toBe(2);
  });

  it('should keep card and jsapi tickets apart', async () => {
    h = await startHarness();
    const card = await h.api.ticket.getTicket('wx_card');
    const js = await h.api.ticket.getTicket('jsapi');
    expect(card).not.toBe(js);
    await expect(h.api.ticket.getTicket('other' as never)).rejects.toThrow(TypeError);
  });
});
