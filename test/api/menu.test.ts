import { WeChatApiError } from '../../src/api/errors';
import { normalizeMenu, type Menu } from '../../src/api/menu';
import { caught, startHarness, type Harness } from './helpers/api-harness';

const MENU: Menu = {
  button: [
    { type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC' },
    {
      name: '菜单',
      sub_button: [
        { type: 'view', name: '搜索', url: 'http://www.soso.com/' },
        { type: 'miniprogram', name: 'wxa', url: 'http://mp.weixin.qq.com', appid: 'wx286b93c14bbf93aa', pagepath: 'pages/lunar/index' },
        { type: 'click', name: '赞一下我们', key: 'V1001_GOOD' },
      ],
    },
  ],
};

describe('normalizeMenu', () => {
  it('should drop the empty sub_button lists menu/get adds and unknown fields', () => {
    const fromWeChat = {
      button: [
        { type: 'click', name: 'A', key: 'a', sub_button: [] },
        { name: 'B', extra: 1, sub_button: [{ type: 'view', name: 'b', url: 'https://b', sub_button: [] }] },
      ],
    } as unknown as Menu;
    expect(normalizeMenu(fromWeChat)).toEqual({
      button: [
        { type: 'click', name: 'A', key: 'a' },
        { name: 'B', sub_button: [{ type: 'view', name: 'b', url: 'https://b' }] },
      ],
    });
  });
});

describe('api.menu', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('should create, read back and delete a menu', async () => {
    h = await startHarness();
    await expect(h.api.menu.get()).resolves.toBeUndefined();
    await h.api.menu.create(MENU);
    expect(h.sandbox.menu).toBeDefined();
    await expect(h.api.menu.get()).resolves.toEqual(MENU);
    await h.api.menu.delete();
    expect(h.sandbox.menu).toBeUndefined();
    await expect(h.api.menu.get()).resolves.toBeUndefined();
  });

  it.each<[string, Menu, number]>([
    ['four top-level buttons', { button: [1, 2, 3, 4].map((i) => ({ type: 'click' as const, name: `b${i}`, key: `k${i}` })) }, 40016],
    ['no buttons', { button: [] }, 40016],
    ['a top-level name over 16 bytes', { button: [{ type: 'click', name: '一二三四五六', key: 'k' }] }, 40018],
    ['an unknown type', { button: [{ type: 'tap' as never, name: 'x', key: 'k' }] }, 40017],
    ['six sub-buttons', { button: [{ name: 'm', sub_button: [1, 2, 3, 4, 5, 6].map((i) => ({ type: 'click' as const, name: `s${i}`, key: `k${i}` })) }] }, 40023],
    ['a sub-button without url', { button: [{ name: 'm', sub_button: [{ type: 'view', name: 's' }] }] }, 40027],
    ['a click without key', { button: [{ type: 'click', name: 'x' }] }, 40019],
  ])('should surface WeChat’s code for %s', async (_what, menu, errcode) => {
    h = await startHarness();
    const err = (await caught(() => h.api.menu.create(menu))) as WeChatApiError;
    expect(err).toBeInstanceOf(WeChatApiError);
    expect(err.errcode).toBe(errcode);
    expect(err.hint).toBeDefined();
    expect(h.sandbox.menu).toBeUndefined();
  });

  it('should refuse a value that is not a menu before calling WeChat', async () => {
    h = await startHarness();
    await expect(h.api.menu.create({} as Menu)).rejects.toThrow(TypeError);
    expect(h.sandbox.calls).toHaveLength(0);
  });
});
