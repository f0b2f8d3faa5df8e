import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot, tempDir } from './support/paths.js';

const run = promisify(execFile);
const DEPCRUISE = join(repoRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const RULES = join(repoRoot, '.dependency-cruiser.mjs');
const LOADED_RULES = join(repoRoot, '.dependency-cruiser-loaded.mjs');

/**
 * Runs the project's rules (the ones `npm run lint` applies) over a small tree of modules written
 * to a temporary folder laid out like the project, and returns the exit code and output.
 */
async function cruise(files: Record<string, string>, rules = RULES): Promise<{ code: number; output: string }> {
  const { dir, cleanup } = await tempDir('zeek-anomaly-depcruise-');
  try {
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
    const roots = [...new Set(Object.keys(files).map((path) => path.split('/')[0]!))];
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    try {
      const { stdout, stderr } = await run(process.execPath, [DEPCRUISE, '--config', rules, ...roots], { cwd: dir });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
    }
  } finally {
    await cleanup();
  }
}

test('the dependency check passes a tree whose imports point one way', async () => {
  const result = await cruise({
    'pipeline/read/conn-record.ts': 'export interface ConnRecord { ts: number }\n',
    'pipeline/score/score.ts': "import type { ConnRecord } from '../read/conn-record.js';\nexport const first = (r: ConnRecord): number => r.ts;\n",
  });
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /no dependency violations found/);
});

test('the dependency check fails on an import cycle, naming the rule and the modules', async () => {
  const result = await cruise({
    'pipeline/read/a.ts': "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n",
    'pipeline/read/b.ts': "import { a } from './a.js';\nexport const b = (): number => a() - 1;\n",
  });
  assert.notEqual(result.code, 0, result.output);
  assert.match(result.output, /error no-cycle: pipeline\/read\/(a|b)\.ts → /);
});

test('the dependency check fails when the reader imports the service, or the model runs pipeline code', async () => {
  const upward = await cruise({
    'pipeline/service/queue.ts': 'export const size = 1;\n',
    'pipeline/read/reader.ts': "import { size } from '../service/queue.js';\nexport const n = size;\n",
  });
  assert.notEqual(upward.code, 0, upward.output);
  assert.match(upward.output, /error read-is-the-bottom: pipeline\/read\/reader\.ts → pipeline\/service\/queue\.ts/);

  const modelRunsPipeline = await cruise({
    'pipeline/read/conn-record.ts': 'export const fields = 1;\n',
    'model/train.ts': "import { fields } from '../pipeline/read/conn-record.js';\nexport const n = fields;\n",
  });
  assert.notEqual(modelRunsPipeline.code, 0, modelRunsPipeline.output);
  assert.match(modelRunsPipeline.output, /error model-takes-only-the-record-type: model\/train\.ts → pipeline\/read\/conn-record\.ts/);
});

test('the dependency check fails when the dashboard runs the service, or the service imports the dashboard', async () => {
  const dashboardRunsService = await cruise({
    'pipeline/service/service.ts': 'export const run = (): number => 1;\n',
    'pipeline/serve/app.ts': "import { run } from '../service/service.js';\nexport const n = run();\n",
  });
  assert.notEqual(dashboardRunsService.code, 0, dashboardRunsService.output);
  assert.match(dashboardRunsService.output, /error serve-is-handed-its-values: pipeline\/serve\/app\.ts → pipeline\/service\/service\.ts/);

  const serviceServes = await cruise({
    'pipeline/serve/app.ts': 'export const port = 8080;\n',
    'pipeline/service/service.ts': "import { port } from '../serve/app.js';\nexport const n = port;\n",
  });
  assert.notEqual(serviceServes.code, 0, serviceServes.output);
  assert.match(serviceServes.output, /error the-service-takes-only-the-dashboards-settings: pipeline\/service\/service\.ts → pipeline\/serve\/app\.ts/);
});

test('the dependency check passes the service taking the dashboard\'s settings, and the dashboard naming the Logger type', async () => {
  const result = await cruise({
    'pipeline/serve/serve-settings.ts': 'export const DEFAULT_PORT = 8080;\n',
    'pipeline/service/logger.ts': 'export interface Logger { info(event: string): void }\n',
    'pipeline/service/config.ts': "import { DEFAULT_PORT } from '../serve/serve-settings.js';\nexport const port = DEFAULT_PORT;\n",
    'pipeline/serve/start.ts': "import type { Logger } from '../service/logger.js';\nexport const start = (log: Logger): void => log.info('up');\n",
  });
  assert.equal(result.code, 0, result.output);
});

test('the dependency check fails when the dashboard loads scoring code through another module, but not through a type', async () => {
  const files = {
    'model/autoencoder.ts': 'export const layers = 3;\nexport interface Weights { n: number }\n',
    'db/findings.ts': "import { layers } from '../model/autoencoder.js';\nexport const depth = layers;\n",
    'db/types.ts': "import type { Weights } from '../model/autoencoder.js';\nexport type Row = Weights;\n",
    'pipeline/serve/page.ts': "import { depth } from '../../db/findings.js';\nimport type { Row } from '../../db/types.js';\nexport const shown = (row: Row): number => depth + row.n;\n",
  };
  const loaded = await cruise(files, LOADED_RULES);
  assert.notEqual(loaded.code, 0, loaded.output);
  assert.match(loaded.output, /error serve-loads-no-scoring-code: pipeline\/serve\/page\.ts → model\/autoencoder\.ts/);
  assert.doesNotMatch(loaded.output, /db\/types\.ts/, 'a type-only import loads nothing');
});

test('the dependency check fails when the product imports a dev tool or a test, or preprocessing imports the context', async () => {
  const result = await cruise({
    'scripts/dev/bench.ts': 'export const runs = 3;\n',
    'test/support/paths.ts': "export const root = '.';\n",
    'pipeline/context/context-features.ts': 'export const width = 29;\n',
    'scripts/commands/score.ts': "import { runs } from '../dev/bench.js';\nimport { root } from '../../test/support/paths.js';\nexport const n = runs + root.length;\n",
    'preprocess/preprocessor.ts': "import { width } from '../pipeline/context/context-features.js';\nexport const w = width;\n",
  });
  assert.notEqual(result.code, 0, result.output);
  assert.match(result.output, /error dev-tools-stay-out-of-the-product: scripts\/commands\/score\.ts → scripts\/dev\/bench\.ts/);
  assert.match(result.output, /error the-product-imports-no-tests: scripts\/commands\/score\.ts → test\/support\/paths\.ts/);
  assert.match(result.output, /error preprocess-needs-only-records: preprocess\/preprocessor\.ts → pipeline\/context\/context-features\.ts/);
});

test('the dependency check passes the ledger over scoring over the first read, and fails on an import back down', async () => {
  const oneWay = await cruise({
    'pipeline/first-read/blocks.ts': 'export const rows = 2048;\n',
    'pipeline/score/score-file.ts': "import { rows } from '../first-read/blocks.js';\nexport const score = (): number => rows;\n",
    'pipeline/ledger/process-file.ts': "import { score } from '../score/score-file.js';\nexport const process = (): number => score();\n",
  });
  assert.equal(oneWay.code, 0, oneWay.output);

  const scoreUsesLedger = await cruise({
    'pipeline/ledger/lease.ts': 'export const held = true;\n',
    'pipeline/score/score-file.ts': "import { held } from '../ledger/lease.js';\nexport const go = held;\n",
  });
  assert.notEqual(scoreUsesLedger.code, 0, scoreUsesLedger.output);
  assert.match(scoreUsesLedger.output, /error score-below-the-ledger: pipeline\/score\/score-file\.ts → pipeline\/ledger\/lease\.ts/);

  const readUsesScore = await cruise({
    'pipeline/score/score-file.ts': 'export const cut = 0;\n',
    'pipeline/first-read/read-thread.ts': "import { cut } from '../score/score-file.js';\nexport const n = cut;\n",
  });
  assert.notEqual(readUsesScore.code, 0, readUsesScore.output);
  assert.match(readUsesScore.output, /error first-read-below-scoring: pipeline\/first-read\/read-thread\.ts → pipeline\/score\/score-file\.ts/);
});
