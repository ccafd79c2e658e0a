import { menuFileSchema, menuKeys, MENU_BUTTON_TYPES } from '../../src/config/menu-schema';
import { toWeChatMenu } from '../../src/config/to-wechat-menu';
import { configErrorMap, zodToIssues } from '../../src/lib/schema-helpers';
import { formatIssue } from '../../src/lib/config-issue';

const issues = (data: unknown) => {
  const r = menuFileSchema.safeParse(data, { error: configErrorMap });
  return r.success ? [] : zodToIssues(r.error, 'menu.yaml', () => undefined, data).map(formatIssue);
};
const click = (name: string, key: string) => ({ type: 'click', name, key });

const EVERY_TYPE = {
  button: [
    {
      name: 'Keys',
      sub_button: [
        click('click', 'K_CLICK'),
        { type: 'scancode_push', name: 'push', key: 'K_PUSH' },
        { type: 'scancode_waitmsg', name: 'wait', key: 'K_WAIT' },
        { type: 'pic_sysphoto', name: 'photo', key: 'K_PHOTO' },
        { type: 'pic_photo_or_album', name: 'album', key: 'K_ALBUM' },
      ],
    },
    {
      name: 'More',
      sub_button: [
        { type: 'pic_weixin', name: 'weixin', key: 'K_WX' },
        { type: 'location_select', name: 'where', key: 'K_LOC' },
        { type: 'view', name: 'site', url: 'https://example.com/' },
        { type: 'miniprogram', name: 'mini', url: 'https://example.com/m', appid: 'wx123', pagepath: 'pages/index' },
        { type: 'media_id', name: 'media', media_id: 'MEDIA' },
      ],
    },
    {
      name: 'Articles',
      sub_button: [
        { type: 'view_limited', name: 'vl', media_id: 'MEDIA2' },
        { type: 'article_id', name: 'art', article_id: 'ART' },
        { type: 'article_view_limited', name: 'artvl', article_id: 'ART2' },
      ],
    },
  ],
};

describe('menuFileSchema', () => {
  it('should accept every button type', () => {
    expect(issues(EVERY_TYPE)).toEqual([]);
    const types = EVERY_TYPE.button.flatMap((b) => b.sub_button.map((s) => s.type));
    expect(new Set(types)).toEqual(new Set(MENU_BUTTON_TYPES));
  });

  it('should treat an empty file as no menu', () => {
    expect(menuFileSchema.parse(null)).toEqual({ button: [] });
  });

  it.each([
    [
      'a 17-byte top-level name',
      { button: [click('a'.repeat(17), 'K')] },
      ['menu.yaml button[0].name: name is 17 bytes; at most 16 bytes allowed (a Chinese character is 3 bytes)'],
    ],
    [
      'six Chinese characters at the top (18 bytes)',
      { button: [click('六个中文字符', 'K')] },
      ['menu.yaml button[0].name: name is 18 bytes; at most 16 bytes allowed (a Chinese character is 3 bytes)'],
    ],
    [
      'a 61-byte sub-menu name',
      { button: [{ name: 'S', sub_button: [click('a'.repeat(61), 'K')] }] },
      ['menu.yaml button[0].sub_button[0].name: name is 61 bytes; at most 60 bytes allowed (a Chinese character is 3 bytes)'],
    ],
    [
      'a 129-byte key',
      { button: [click('A', 'k'.repeat(129))] },
      ['menu.yaml button[0].key: key is 129 bytes; at most 128 bytes allowed (a Chinese character is 3 bytes)'],
    ],
    [
      'a 1025-byte url',
      { button: [{ type: 'view', name: 'V', url: `https://e.com/${'a'.repeat(1011)}` }] },
      ['menu.yaml button[0].url: url is 1025 bytes; at most 1024 bytes allowed (a Chinese character is 3 bytes)'],
    ],
    [
      'a url that is not http(s)',
      { button: [{ type: 'view', name: 'V', url: 'javascript:alert(1)' }] },
      ['menu.yaml button[0].url: "javascript:alert(1)" is not an http(s) URL'],
    ],
    [
      'a miniprogram without pagepath',
      { button: [{ type: 'miniprogram', name: 'M', url: 'https://e.com', appid: 'wx1' }] },
      ['menu.yaml button[0].pagepath: is required (expected a string)'],
    ],
    ['a click without key', { button: [{ type: 'click', name: 'A' }] }, ['menu.yaml button[0].key: is required (expected a string)']],
    [
      'a view with a key',
      { button: [{ type: 'view', name: 'V', url: 'https://e.com', key: 'K' }] },
      ['menu.yaml button[0].key: unknown key "key"; allowed keys: type, name, url'],
    ],
    ['an empty sub-menu', { button: [{ name: 'S', sub_button: [] }] }, ['menu.yaml button[0].sub_button: has 0 buttons; a sub-menu holds at least 1']],
    [
      'a sub-menu inside a sub-menu',
      { button: [{ name: 'S', sub_button: [{ name: 'T', sub_button: [] }] }] },
      [expect.stringContaining('menu.yaml button[0].sub_button[0].type: is required (one of click,')],
    ],
    [
      'duplicate keys',
      { button: [click('A', 'K'), { name: 'S', sub_button: [click('B', 'K')] }] },
      ['menu.yaml button[1].sub_button[0].key: duplicate menu key "K" (also button[0].key)'],
    ],
  ])('should refuse %s', (_n, data, expected) => {
    expect(issues(data)).toEqual(expected);
  });
});

describe('menuKeys', () => {
  it('should list every key-carrying button with its path', () => {
    const keys = menuKeys(menuFileSchema.parse(EVERY_TYPE));
    expect(keys.map((k) => k.key)).toEqual(['K_CLICK', 'K_PUSH', 'K_WAIT', 'K_PHOTO', 'K_ALBUM', 'K_WX', 'K_LOC']);
    expect(keys[0]).toEqual({ type: 'click', key: 'K_CLICK', name: 'click', path: ['button', 0, 'sub_button', 0, 'key'] });
  });
});

describe('toWeChatMenu', () => {
  it('should build the menu/create body with WeChat field names', () => {
    const body = toWeChatMenu(
      menuFileSchema.parse({
        button: [
          click('今日歌曲', 'V1001_TODAY_MUSIC'),
          {
            name: '菜单',
            sub_button: [
              { type: 'view', name: '搜索', url: 'http://www.soso.com/' },
              { type: 'miniprogram', name: 'wxa', url: 'http://mp.weixin.qq.com', appid: 'wx286b93c14bbf93aa', pagepath: 'pages/lunar/index' },
              click('赞一下我们', 'V1001_GOOD'),
            ],
          },
        ],
      }),
    );
    // The example body of the official menu/create documentation.
    expect(JSON.stringify(body)).toBe(
      JSON.stringify({
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
      }),
    );
  });

  it('should carry media_id and article_id buttons', () => {
    const body = toWeChatMenu(menuFileSchema.parse(EVERY_TYPE));
    expect(body.button[2]).toEqual({
      name: 'Articles',
      sub_button: [
        { type: 'view_limited', name: 'vl', media_id: 'MEDIA2' },
        { type: 'article_id', name: 'art', article_id: 'ART' },
        { type: 'article_view_limited', name: 'artvl', article_id: 'ART2' },
      ],
    });
  });
});
