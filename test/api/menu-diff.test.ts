import { diffMenu, menuLines } from '../../src/api/menu-diff';
import type { Menu } from '../../src/api/menu';

const before: Menu = {
  button: [
    { type: 'click', name: '今日歌曲', key: 'V1001' },
    {
      name: '更多',
      sub_button: [
        { type: 'view', name: '官网', url: 'https://old.example.com' },
        { type: 'click', name: '赞', key: 'GOOD' },
      ],
    },
  ],
};

describe('menuLines', () => {
  it('should print one line per button with sub-buttons indented', () => {
    expect(menuLines(before)).toEqual(['[click] 今日歌曲 key=V1001', '[menu] 更多', '    [view] 官网 url=https://old.example.com', '    [click] 赞 key=GOOD']);
    expect(menuLines(undefined)).toEqual([]);
  });
});

describe('diffMenu', () => {
  it('should report no change for the same menu as WeChat returns it', () => {
    const fromWeChat = JSON.parse(JSON.stringify(before)) as Menu;
    (fromWeChat.button[0] as { sub_button?: unknown[] }).sub_button = [];
    const d = diffMenu(fromWeChat, before);
    expect(d.changed).toBe(false);
    expect(d.lines.every((l) => l.startsWith('  '))).toBe(true);
  });

  it('should show removed and added lines', () => {
    const after: Menu = {
      button: [
        { type: 'click', name: '今日歌曲', key: 'V1001' },
        {
          name: '更多',
          sub_button: [
            { type: 'view', name: '官网', url: 'https://www.example.com' },
            { type: 'click', name: '赞', key: 'GOOD' },
          ],
        },
        { type: 'click', name: '帮助', key: 'HELP' },
      ],
    };
    const d = diffMenu(before, after);
    expect(d.changed).toBe(true);
    expect(d.lines).toEqual([
      '  [click] 今日歌曲 key=V1001',
      '  [menu] 更多',
      '-     [view] 官网 url=https://old.example.com',
      '+     [view] 官网 url=https://www.example.com',
      '      [click] 赞 key=GOOD',
      '+ [click] 帮助 key=HELP',
    ]);
  });

  it('should show everything as added when WeChat has no menu', () => {
    const d = diffMenu(undefined, before);
    expect(d.changed).toBe(true);
    expect(d.lines.every((l) => l.startsWith('+ '))).toBe(true);
  });
});
