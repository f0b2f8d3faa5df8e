// What a module loads when it runs, as against what it names: the rules here follow only the imports
// that stay in the JavaScript (type-only imports are gone from it), which is what `reachable`
// should walk. `npm run lint` runs it after .dependency-cruiser.mjs.
import base from './.dependency-cruiser.mjs';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'serve-loads-no-scoring-code',
      comment: 'Nothing the dashboard loads reaches the reader, the context, the scorer, training, the models, preprocessing or the detectors: it starts fast and small beside the service.',
      severity: 'error',
      from: { path: '^pipeline/serve/' },
      to: { path: '^(pipeline/(read|context|first-read|score|ledger|train|service)/|pipeline/findings/(detectors|modifiers)/|pipeline/findings/(registry|file-activity|findings-stage)\\.ts$|preprocess/|model/)', reachable: true },
    },
  ],
  options: { ...base.options, tsPreCompilationDeps: false },
};
