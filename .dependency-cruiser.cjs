/**
 * The arrows of ../shared/design.md (and the dependency direction of the style guide) as rules, checked by
 * `npm run lint:deps`. Known violations of today's tree are listed in
 * .dependency-cruiser-known-violations.json (`--ignore-known`): lint passes on them and fails on any
 * new one. Regenerate that file only when removing entries (`npm run lint:deps:baseline`), never to
 * admit a new violation. docs/architecture-lint.md explains each rule and lists the known violations.
 *
 * The folders of src/ form one order, innermost first. A folder may import itself and the folders
 * before it, never one after it, so no two folders can import each other (no folder-level cycle,
 * type imports included). The one exception design.md names is built in: store adapters sit after the
 * domain and may import the port TYPES they implement (rewards/ledger.ts, spend/order-store.ts), not
 * domain values.
 */
/** [name, path regex] innermost first. */
const LAYERS = [
  ['lib', '^src/lib/'],
  // The pure protocol files: a leaf everyone may import.
  ['wechat', '^src/wechat/[^/]+$'],
  ['store-ports', '^src/store/ports\\.ts$'],
  ['pay', '^src/pay/'],
  // Replies and the specs they are built from: rules decide which one, the API sends them as messages.
  ['reply', '^src/reply/'],
  ['api', '^src/api/'],
  // The domain: rules, then rewards and the reward kinds.
  ['rules', '^src/rules/'],
  ['rewards', '^src/rewards/'],
  ['cards', '^src/cards/'],
  ['spend', '^src/spend/'],
  // Loads and validates every domain's config files.
  ['config', '^src/config/'],
  // Adapters and stand-ins: outside the domain.
  ['store-adapters', '^src/store/(?!ports\\.ts$)'],
  ['sandbox', '^src/sandbox/'],
  // The inbound edge, the operator commands, the composition root.
  ['wechat-koa', '^src/wechat/koa/'],
  ['cli', '^src/cli/'],
  // The operator console (issue 16): pages over the domain, mounted only by the composition root.
  ['console', '^src/console/'],
  ['bot', '^src/bot/'],
  // The package's public entry: re-exports only, imported by nobody inside.
  ['index', '^src/index\\.ts$'],
  ['app', '^app\\.ts$'],
];

const layerRules = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `layer-${name}`,
  severity: 'error',
  comment: `${name} may import only ${
    LAYERS.slice(0, i)
      .map(([n]) => n)
      .join(', ') || 'nothing in src'
  } (design.md: modules depend inward, no cycle between folders)`,
  from: { path },
  to: {
    path: LAYERS.slice(i + 1)
      .map(([, p]) => `(${p})`)
      .join('|'),
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'adapter-imports-domain-value',
      severity: 'error',
      comment: 'An adapter imports the port TYPES it implements, never a domain value: the rule would leak into storage (style.md, rule 13)',
      // open-stores.ts is no adapter: it is the store factory, which puts the domain's money rules
      // over the ledger adapter it opens (withLedgerRules from rewards/ledger-plans.ts) and nothing else.
      from: { path: '^src/store/', pathNot: '^src/store/open-stores\\.ts$' },
      to: { path: '^src/(rules|reply|rewards|cards|spend)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'concrete-adapter-outside-composition-root',
      severity: 'error',
      comment:
        'Only the composition root (app.ts, src/bot), the operator commands (src/cli) and the public entry (src/index.ts, for the store factory) pick concrete store adapters; others get ports',
      from: { path: '^src/', pathNot: ['^src/(bot|cli|store)/', '^src/index\\.ts$'] },
      to: { path: '^src/store/(?!ports\\.ts$)' },
    },
    {
      name: 'sandbox-outside-composition-root',
      severity: 'error',
      comment: 'The stand-in servers are started by the composition root (src/bot) and the CLI, never imported by the domain or the edge',
      from: { path: '^src/', pathNot: '^src/(bot|cli|sandbox)/' },
      to: { path: '^src/sandbox/' },
    },
    {
      name: 'domain-knows-http',
      severity: 'error',
      comment: 'Nothing in src/rules, src/rewards, src/cards (or src/reply) knows about Koa or HTTP (design.md; style.md: no koa or axios)',
      from: { path: '^src/(rules|rewards|cards|reply)/' },
      to: { path: '^(node_modules/(koa|koa-compose|@koa/router|axios|supertest)/)|^(node:)?(http|https|http2|net)$' },
    },
    {
      name: 'src-imports-tests-or-bench',
      severity: 'error',
      comment: 'Production code never imports test/ or bench/',
      from: { path: '^(src/|app\\.ts$)' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle between files (type imports included)',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve fails at run time',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'src-not-to-dev-dep',
      severity: 'error',
      comment: 'Production code imports only dependencies, not devDependencies (npm ci --omit=dev would break it)',
      from: { path: '^(src/|app\\.ts$)' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
