// The dependency rules `npm run lint` enforces (dependency-cruiser). Folders read as the data flow,
// and every import points back up it:
//   pipeline/read → pipeline/context → preprocess → model → db → pipeline/findings → pipeline/first-read → pipeline/score → pipeline/ledger → pipeline/service
//   pipeline/train sits beside the last three: pipeline/findings → pipeline/train → pipeline/service.
//   pipeline/discover (archive names, listing, watching) stands on its own.
//   pipeline/serve (the dashboard) reads db/ and knows the findings' allow-list; it is handed its values, loads
//   no scoring code (a reachability rule), and only the CLI starts it.
//   pipeline/settings (the words config sections are written in) sits below everything.
//   notebooks-ts and scripts sit on top; nothing imports them, nor the tests.
const ABOVE_READ = '^(pipeline/(context|discover|findings|first-read|score|ledger|train|service|serve)/|preprocess/|model/|db/|notebooks-ts/|scripts/|test/)';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'An import cycle: two modules that need each other belong in one, or share a third below both.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'settings-are-words',
      comment: 'pipeline/settings holds the words config sections are written in: every folder may use it, so it imports nothing of the project.',
      severity: 'error',
      from: { path: '^pipeline/settings/' },
      to: { path: '^(pipeline/(read|context|discover|findings|first-read|score|ledger|train|service|serve)/|preprocess/|model/|db/|notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'read-is-the-bottom',
      comment: 'pipeline/read turns bytes into conn records; it knows nothing of what is done with them.',
      severity: 'error',
      from: { path: '^pipeline/read/' },
      to: { path: ABOVE_READ },
    },
    {
      name: 'context-sees-records',
      comment: 'pipeline/context keeps statistics over conn records: it imports pipeline/read and nothing else of the project.',
      severity: 'error',
      from: { path: '^pipeline/context/' },
      to: { path: '^(pipeline/(discover|findings|first-read|score|ledger|train|service|serve)/|preprocess/|model/|db/|notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'discover-stands-alone',
      comment: 'pipeline/discover knows archive names, layouts and the watcher, not how a log is read or scored.',
      severity: 'error',
      from: { path: '^pipeline/discover/' },
      to: { path: '^(pipeline/(read|context|findings|first-read|score|ledger|train|service|serve)/|preprocess/|model/|db/|notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'preprocess-needs-only-records',
      comment: 'Features are computed from conn records: preprocess imports pipeline/read and nothing else of the project.',
      severity: 'error',
      from: { path: '^preprocess/' },
      to: { path: '^(pipeline/(context|discover|findings|first-read|score|ledger|train|service|serve)/|model/|db/|notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'model-knows-records-not-the-pipeline',
      comment: 'model/ trains and scores on records and features; reading files and walking folders is the pipeline side.',
      severity: 'error',
      from: { path: '^model/' },
      to: { path: '^(pipeline/|db/|notebooks-ts/|scripts/|test/)', pathNot: '^pipeline/read/conn-record\\.ts$' },
    },
    {
      name: 'model-takes-only-the-record-type',
      comment: 'model/ may name the ConnRecord type, never run pipeline code.',
      severity: 'error',
      from: { path: '^model/' },
      to: { path: '^pipeline/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'db-is-storage',
      comment: 'db/ holds all SQL; it stores what the stages above produce and calls none of them.',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: '^(pipeline/|model/|notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'findings-read-state-and-store',
      comment: 'pipeline/findings turns a file\'s activity and the context state into findings and stores them through db/: it scores nothing and knows no model.',
      severity: 'error',
      from: { path: '^pipeline/findings/' },
      to: { path: '^(pipeline/(discover|first-read|score|ledger|train|service|serve)/|preprocess/|model/|notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'first-read-below-scoring',
      comment: 'pipeline/first-read turns a file into blocks of features and keeps the candidate rows, on this thread or a read thread of its own: the scorer drives it, so it knows nothing of scoring, the ledger, training or the service.',
      severity: 'error',
      from: { path: '^pipeline/first-read/' },
      to: { path: '^(pipeline/(discover|score|ledger|train|service|serve)/|notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'score-below-the-ledger',
      comment: 'Scoring a file knows nothing of what is done or who may do it: the ledger calls scoreFile, never the other way round.',
      severity: 'error',
      from: { path: '^pipeline/score/' },
      to: { path: '^pipeline/ledger/' },
    },
    {
      name: 'ledger-below-the-service',
      comment: 'pipeline/ledger (what is done: the file ledger, the context state saved with it; who may do it: the sensor\'s lease) scores through pipeline/score and is used by the service and the CLI, never the other way round.',
      severity: 'error',
      from: { path: '^pipeline/ledger/' },
      to: { path: '^(pipeline/(service|serve)/|notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'score-and-train-below-the-service',
      comment: 'Scoring a file and training on logs are used by the service, never the other way round; neither uses the other.',
      severity: 'error',
      from: { path: '^pipeline/(score|train)/' },
      to: { path: '^(pipeline/(service|serve)/|notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'score-and-train-apart',
      severity: 'error',
      from: { path: '^pipeline/(first-read|score|ledger)/' },
      to: { path: '^pipeline/train/' },
    },
    {
      name: 'train-and-score-apart',
      severity: 'error',
      from: { path: '^pipeline/train/' },
      to: { path: '^pipeline/(first-read|score|ledger)/' },
    },
    {
      name: 'service-below-the-cli',
      severity: 'error',
      from: { path: '^pipeline/service/' },
      to: { path: '^(notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'serve-only-reads',
      comment: 'pipeline/serve shows what db/ holds: it scores, trains and preprocesses nothing, and of the service takes only its config and logger types.',
      severity: 'error',
      from: { path: '^pipeline/serve/' },
      to: { path: '^(pipeline/(read|context|first-read|score|ledger|train)/|preprocess/|model/|notebooks-ts/|scripts/|test/)' },
    },
    {
      name: 'serve-is-handed-its-values',
      comment: 'The dashboard is given the values it needs (its settings, the finding types, a logger); of the service it may name the Logger type, nothing more.',
      severity: 'error',
      from: { path: '^pipeline/serve/' },
      to: { path: '^pipeline/service/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'the-service-takes-only-the-dashboards-settings',
      comment: 'The service puts the serve section in the whole config; it starts no dashboard (only the CLI does).',
      severity: 'error',
      from: { path: '^pipeline/service/' },
      to: { path: '^pipeline/serve/', pathNot: '^pipeline/serve/serve-settings\\.ts$' },
    },
    {
      name: 'dev-tools-stay-out-of-the-product',
      comment: 'scripts/dev (benchmarks, evaluations, screenshots) is left out of the package: only it and the tests may import it.',
      severity: 'error',
      from: { pathNot: '^(scripts/dev|test)/' },
      to: { path: '^scripts/dev/' },
    },
    {
      name: 'the-product-imports-no-tests',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'notebooks-below-the-cli',
      severity: 'error',
      from: { path: '^notebooks-ts/' },
      to: { path: '^(pipeline/(service|serve)/|scripts/|test/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    // Type-only imports count: a cycle of types is still two modules that cannot be read apart.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
