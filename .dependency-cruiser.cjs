/**
 * The layering of ../shared/STYLE.md §1, enforced in CI (`npm run lint:deps`):
 *   transport -> api -> cluster -> raft | log ; every layer -> common.
 * Native bindings are quarantined to the files that wrap them.
 */
const layer = (name) => `^src/${name}/`;
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: { path: '^src' }, to: { circular: true, dependencyTypesNot: ['type-only'] } },
    { name: 'common-is-a-leaf', severity: 'error', from: { path: layer('common') }, to: { path: '^src/(?!common/)' } },
    { name: 'raft-sees-only-common', severity: 'error', from: { path: layer('raft') }, to: { path: '^src/(?!(raft|common)/)' } },
    {
      name: 'raft-core-is-pure',
      comment: 'The Raft core is a deterministic state machine: no I/O, no node built-ins, no packages.',
      severity: 'error',
      from: { path: '^src/raft/core/' },
      to: { pathNot: '^src/(raft/core/|raft/types\\.ts|common/(assert|random|ids)\\.ts)' },
    },
    {
      name: 'log-sees-raft-types-only',
      severity: 'error',
      from: { path: layer('log') },
      to: { path: '^src/(?!(log|common)/)', pathNot: '^src/raft/types\\.ts$' },
    },
    {
      name: 'log-imports-raft-types-as-types',
      severity: 'error',
      from: { path: layer('log') },
      to: { path: '^src/raft/types\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    { name: 'cluster-not-upward', severity: 'error', from: { path: layer('cluster') }, to: { path: '^src/(api|transport|client)/' } },
    { name: 'api-not-upward', severity: 'error', from: { path: layer('api') }, to: { path: '^src/(transport|raft|log|client)/' } },
    { name: 'transport-above-cluster', severity: 'error', from: { path: layer('transport') }, to: { path: '^src/(raft|log|client)/' } },
    {
      name: 'client-is-standalone',
      comment: 'The client library ships to users: it may share wire types, nothing of the server.',
      severity: 'error',
      from: { path: layer('client') },
      to: { path: '^src/(?!(client|common)/)' },
    },
    {
      name: 'uws-quarantine',
      severity: 'error',
      from: { pathNot: '^src/transport/(http/uws-app|ws/session)\\.ts$' },
      to: { path: 'node_modules/(uWebSockets\\.js|@trufflesuite/uws-js-unofficial)/' },
    },
    { name: 'lmdb-quarantine', severity: 'error', from: { pathNot: '^src/log/lmdb/' }, to: { path: 'node_modules/lmdb/' } },
    {
      name: 'prom-client-quarantine',
      comment: 'Layers report through their own metrics.ts interfaces; only src/metrics/ knows Prometheus (main.ts creates the Registry).',
      severity: 'error',
      from: { pathNot: '^src/(metrics/|main\\.ts$)' },
      to: { path: 'node_modules/prom-client/' },
    },
    { name: 'pino-quarantine', severity: 'error', from: { pathNot: '^src/logger\\.ts$' }, to: { path: 'node_modules/pino/' } },
    {
      name: 'metrics-implements-layer-interfaces',
      comment: 'src/metrics/ sees the layers only through their metrics.ts types, never their behaviour.',
      severity: 'error',
      from: { path: '^src/metrics/' },
      to: { path: '^src/(?!metrics/)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'metrics-used-by-the-composition-root-only',
      severity: 'error',
      from: { path: '^src/(transport|api|cluster|raft|log|common|client)/' },
      to: { path: '^src/(metrics/|logger\\.ts$)' },
    },
    { name: 'grpc-quarantine', severity: 'error', from: { pathNot: '^src/(raft|cluster)/grpc/' }, to: { path: 'node_modules/@grpc/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
