import { rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { queryAnomalies } from '../db/anomalies.js';
import { queryFindings, SEVERITIES } from '../db/findings.js';
import { openDatabase } from '../db/open-database.js';
import { DEFAULT_TRAIN_OPTIONS } from '../model/autoencoder.js';
import { initBackend } from '../model/backend.js';
import { retrain } from '../pipeline/train/retrain.js';
import { ModelStore } from '../model/store.js';
import { resolveConfig } from '../pipeline/service/config.js';
import { createLogger } from '../pipeline/service/logger.js';
import { runService } from '../pipeline/service/service.js';
import { presetNamed } from '../preprocess/presets.js';
import { DEMO_DEFAULTS, DEMO_NETWORK, writeDemoArchive } from './demo-data.js';

const TOP_FINDINGS = 10;

// A sample this size trains both autoencoders in about a minute here and is plenty for a 40-host network.
const DEMO_TRAINING_ROWS = 100_000;

/**
 * `npm run demo`: a few days of an office network's conn logs in zeekctl's archive layout, the
 * last day with five injected attacks; a model trained on the normal days; every archive scored
 * by the service's own code path into a fresh database; and what was caught.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string', default: 'data/demo' }, days: { type: 'string', default: String(DEMO_DEFAULTS.days) } } });
  const root = resolve(values.dir);
  const logDir = join(root, 'logs');
  const started = performance.now();
  await rm(root, { recursive: true, force: true });

  say(`1. writing ${values.days} days of normal traffic and one day with attacks to ${relative(process.cwd(), logDir)}/ …`);
  const manifest = await writeDemoArchive(logDir, { days: Number(values.days) });
  say(`   ${manifest.files} hourly archives, ${manifest.rows.toLocaleString('en-US')} connections (${manifest.days[0]} to ${manifest.attackDay})`);

  const config = resolveConfig({ flags: { dataDir: root, logDir, retrain: { schedule: null }, retention: { schedule: null } } });
  const backend = await initBackend({ log: () => {} });
  const store = new ModelStore({ dataDir: config.dataDir });
  const normalDays = manifest.days.filter((day) => day !== manifest.attackDay).map((day) => join(logDir, day));
  say(`2. training a model on the normal days (a sample of up to ${DEMO_TRAINING_ROWS.toLocaleString('en-US')} rows, ${backend.name} backend) …`);
  const trained = await retrain(backend, store, {
    logs: normalDays,
    maxRows: DEMO_TRAINING_ROWS,
    preset: presetNamed('default'),
    train: DEFAULT_TRAIN_OPTIONS,
    seed: 1,
    activate: true,
  });
  if (trained.status !== 'trained') throw new Error(`training failed: ${trained.status === 'failed' ? trained.reason : 'stopped'}`);
  say(`   model ${trained.version}: ${trained.epochs} epochs, ${trained.seconds.toFixed(1)} s`);

  say('3. scoring every archive with the service (zeek-anomaly watch --once) …');
  let files = 0;
  await runService({
    config,
    log: createLogger({ format: 'json', stream: nullStream() }),
    signal: new AbortController().signal,
    once: true,
    onFile: (outcome) => {
      if (outcome.status === 'done') files++;
    },
  });
  say(`   ${files} files scored; the top 5% of each file flagged`);

  const db = openDatabase(config.db, { readonly: true });
  try {
    const findings = queryFindings(db);
    const medium = findings.filter((f) => SEVERITIES.indexOf(f.severity) >= SEVERITIES.indexOf('medium')).length;
    say(`\n4. the findings (${findings.length} in all, ${medium} of them medium or above), highest score first:`);
    for (const f of findings.slice(0, TOP_FINDINGS)) {
      say(`   ${f.score.toFixed(1).padStart(5)} ${f.severity.padEnd(8)} ${f.type.padEnd(15)} ${f.summary}`);
    }
    say(`   (all of them: npx zeek-anomaly findings --data-dir ${relative(process.cwd(), root)}; one in full: … findings show ID)`);

    const flagged = queryAnomalies(db, { limit: 1_000_000, order: 'score' });
    const rankOf = new Map(flagged.map((row, i) => [row.uid, i + 1]));
    say(`\n5. the flagged connections (${flagged.length.toLocaleString('en-US')} in all), and each attack's among them:`);
    const nameWidth = Math.max(...manifest.attacks.map((a) => a.name.length));
    for (const attack of manifest.attacks) {
      const ranks = attack.uids.map((uid) => rankOf.get(uid)).filter((rank): rank is number => rank !== undefined);
      const best = ranks.length > 0 ? Math.min(...ranks) : null;
      say(
        `   ${attack.name.padEnd(nameWidth)} ${String(ranks.length).padStart(5)} of ${String(attack.rows).padStart(5)} rows flagged${best === null ? '' : `, best rank ${best}`}  — ${attack.description}`,
      );
    }
    say('\n   the ten highest scores:');
    for (const row of flagged.slice(0, 10)) {
      const attack = manifest.attacks.find((a) => row.uid !== null && a.uids.includes(row.uid));
      const why = row.explanation.map((e) => `${e.feature} ${Math.round(e.share * 100)}%`).join(', ');
      say(
        `   ${row.score.toFixed(2).padStart(8)}  ${new Date(row.ts * 1000).toISOString().slice(0, 19)}  ${`${row.origH} → ${row.respH}:${row.respP}`.padEnd(38)} ${(attack?.name ?? 'normal').padEnd(14)} ${why}`,
      );
    }
  } finally {
    db.close();
  }
  const network = DEMO_NETWORK.attack;
  say(
    `\n   (attackers: scanner ${network.scanner}, exfiltration ${network.exfiltrator} → ${network.exfiltrationDestination}, ` +
      `beacon ${network.beaconHost} → ${network.beaconDestination}, trojan ${network.trojanHost} → ${network.trojanC2}:${network.trojanC2Port})`,
  );
  say(`\ndatabase: ${config.db}`);
  say(`explore:  npx zeek-anomaly anomalies --data-dir ${relative(process.cwd(), root)} --order score --limit 20`);
  say(`          npx zeek-anomaly anomalies --data-dir ${relative(process.cwd(), root)} --host ${network.beaconHost}`);
  say(`          sqlite3 ${relative(process.cwd(), config.db)} "SELECT orig_h, resp_h, count(*) FROM anomalies GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10"`);
  say(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const dir = relative(process.cwd(), root);
  say(`\nthe dashboard on this database (then open http://${config.serve.host}:${config.serve.port}/ in a browser; Ctrl+C stops it):`);
  say(`          npx zeek-anomaly serve --data-dir ${dir} --log-dir ${relative(process.cwd(), logDir)}`);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function nullStream(): NodeJS.WritableStream {
  return { write: () => true } as unknown as NodeJS.WritableStream;
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
