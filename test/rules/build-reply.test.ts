import { buildReply, compileTemplate, compileTemplates, emptyTemplateVars, templateStringsOf } from '../../src/reply/build-reply';

const vars = { ...emptyTemplateVars(), openid: 'o1', text: '<b>&"]]>', captures: ['order 7', '7'], groups: { no: '7' } };
const deps = (named: Record<string, string> = {}, random = () => 0) => ({ templates: compileTemplates(named), random });

describe('buildReply', () => {
  it('should print user text verbatim: templates are plain text, the XML layer escapes', () => {
    expect(buildReply({ kind: 'text', text: 'You said <%= text %> / <%- text %>' }, vars, deps())).toEqual({
      type: 'text',
      content: 'You said <b>&"]]> / <b>&"]]>',
    });
  });

  it('should leave strings without EJS tags alone', () => {
    expect(buildReply({ kind: 'text', text: '100% <b>' }, vars, deps())).toEqual({ type: 'text', content: '100% <b>' });
  });

  it('should render a named template with captures, groups and vars (also as vars.x)', () => {
    const d = deps({ order: 'Order <%= captures[1] %>/<%= groups.no %> at <%= shop %> (<%= vars.shop %>)\n\n' });
    expect(buildReply({ kind: 'template', template: 'order', vars: { shop: 'NJ' } }, vars, d)).toEqual({ type: 'text', content: 'Order 7/7 at NJ (NJ)' });
  });

  it('should throw for a template that is not loaded', () => {
    expect(() => buildReply({ kind: 'template', template: 'nope' }, vars, deps())).toThrow('buildReply: no template named "nope" in views/templates');
  });

  it('should pass media replies through', () => {
    expect(buildReply({ kind: 'image', mediaId: 'M' }, vars, deps())).toEqual({ type: 'image', mediaId: 'M' });
    expect(buildReply({ kind: 'voice', mediaId: 'V' }, vars, deps())).toEqual({ type: 'voice', mediaId: 'V' });
    expect(buildReply({ kind: 'video', mediaId: 'X', title: 'For <%= openid %>' }, vars, deps())).toEqual({ type: 'video', mediaId: 'X', title: 'For o1' });
    expect(buildReply({ kind: 'music', thumbMediaId: 'T', musicUrl: 'https://m/<%= openid %>.mp3' }, vars, deps())).toEqual({
      type: 'music',
      thumbMediaId: 'T',
      musicUrl: 'https://m/o1.mp3',
    });
    expect(buildReply({ kind: 'none' }, vars, deps())).toEqual({ type: 'none' });
  });

  it('should pick among random replies with the injected random()', () => {
    const spec = {
      kind: 'random' as const,
      random: [
        { kind: 'text' as const, text: 'a' },
        { kind: 'image' as const, mediaId: 'b' },
      ],
    };
    expect(
      buildReply(
        spec,
        vars,
        deps({}, () => 0.2),
      ),
    ).toEqual({ type: 'text', content: 'a' });
    expect(
      buildReply(
        spec,
        vars,
        deps({}, () => 0.7),
      ),
    ).toEqual({ type: 'image', mediaId: 'b' });
    expect(
      buildReply(
        spec,
        vars,
        deps({}, () => 1),
      ),
    ).toEqual({ type: 'image', mediaId: 'b' });
  });

  it('should compile an inline string once and reuse it', () => {
    const d = deps();
    buildReply({ kind: 'text', text: '<%= openid %>' }, vars, d);
    const fn = d.templates.inline.get('<%= openid %>');
    buildReply({ kind: 'text', text: '<%= openid %>' }, vars, d);
    expect(d.templates.inline.get('<%= openid %>')).toBe(fn);
  });
});

describe('compileTemplate', () => {
  it('should refuse include()', () => {
    expect(() => compileTemplate('<%- include("x") %>', 't')({})).toThrow('t: include() is not supported in reply templates');
  });
});

describe('templateStringsOf', () => {
  it('should list every rendered string of a spec', () => {
    expect(
      templateStringsOf({
        kind: 'random',
        random: [
          { kind: 'text', text: 'a' },
          { kind: 'news', articles: [{ title: 't', url: 'u' }] },
        ],
      }),
    ).toEqual(['a', 't', 'u']);
  });
});
