/**
 * Measures the findings detectors (docs/evaluation.md, "Findings"): every log given goes through
 * the context and findings stages in time order, into a scratch database, and the report says
 * what they raised.
 *
 *   node dist/scripts/dev/findings-report.js [--config FILE] [--top N] [--json] DIR|FILE...   per-day counts by severity, and the top findings
 *   node dist/scripts/dev/findings-report.js --demo [--normal-days N]                          the demo: each attack's finding and rank; what the normal days alone raise
 *   node dist/scripts/dev/findings-report.js --labeled FILE...                                 precision at k of each labeled file's findings
 *
 * A finding is a true positive on a labeled file when most of its entity's labeled connections
 * (the rows matching its source, destination, port and protocol, where set) are malicious.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { queryFindings, SEVERITIES, type Severity, type StoredFinding } from '../../db/findings.js';
import { openDatabase } from '../../db/open-database.js';
import { findConnLogs } from '../../pipeline/discover/log-files.js';
import { FindingsStage } from '../../pipeline/findings/findings-stage.js';
import type { ConnRecord } from '../../pipeline/read/conn-record.js';
import { resolveConfig } from '../../pipeline/service/config.js';
import { labelOf } from '../../pipeline/train/evaluate.js';
import { replayFindings } from '../../pipeline/train/replay-findings.js';
import { DEMO_ATTACK_FINDINGS, DEMO_DEFAULTS, writeDemoArchive } from '../demo-data.js';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      top: { type: 'string', default: '10' },
      demo: { type: 'boolean', default: false },
      'normal-days': { type: 'string', default: String(DEMO_DEFAULTS.days) },
      labeled: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const config = resolveConfig({ file: values.config });
  const stage = (): FindingsStage => new FindingsStage(config.findings);
  const scratch = await mkdtemp(join(tmpdir(), 'zeek-anomaly-findings-report-'));
  try {
    if (values.demo) await demoReport(scratch, stage, Number(values['normal-days']), Number(values.top));
    else if (values.labeled) await labeledReport(scratch, stage, positionals);
    else await sensorReport(scratch, stage, positionals, Number(values.top), values.json);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Findings per UTC day (of their first connection) and severity, and the top ones. */
async function sensorReport(scratch: string, stage: () => FindingsStage, inputs: string[], top: number, json: boolean): Promise<void> {
  const files = (await findConnLogs(inputs, { nameTimeZone: 'utc' })).files.map((f) => f.path);
  const findings = await replay(scratch, 'sensor', files, stage());
  if (json) {
    process.stdout.write(`${JSON.stringify({ files: files.length, byDay: byDay(findings), top: findings.slice(0, top) })}\n`);
    return;
  }
  say(`${files.length} files, ${findings.length} findings\n`);
  say(dayTable(findings));
  say(`\ntop ${top}:\n${findings.slice(0, top).map(line).join('\n')}`);
}

/** The demo: each attack's finding (type and rank), and what the normal days alone raise. */
async function demoReport(scratch: string, stage: () => FindingsStage, normalDays: number, top: number): Promise<void> {
  const logDir = join(scratch, 'demo');
  const manifest = await writeDemoArchive(logDir, { days: normalDays });
  const archivesOf = async (days: readonly string[]): Promise<string[]> => (await findConnLogs(days.map((day) => join(logDir, day)), { nameTimeZone: 'utc' })).files.map((f) => f.path);
  const normal = await replay(scratch, 'normal', await archivesOf(manifest.days.filter((d) => d !== manifest.attackDay)), stage());
  say(`normal days (${manifest.days.length - 1}): ${normal.length} findings`);
  say(dayTable(normal));
  const loud = normal.filter((f) => SEVERITIES.indexOf(f.severity) >= SEVERITIES.indexOf('medium'));
  say(`medium or above on the normal days: ${loud.length}\n${loud.map(line).join('\n')}\n`);

  const all = await replay(scratch, 'all', await archivesOf(manifest.days), stage());
  say(`all days, attack day included: ${all.length} findings`);
  say('| attack | expected type | rank | severity | score | summary |\n|---|---|---:|---|---:|---|');
  for (const { attack: name, type, isIt } of DEMO_ATTACK_FINDINGS) {
    const rank = all.findIndex((f) => f.type === type && isIt(f));
    const f = all[rank];
    say(`| ${name} | ${type} | ${f === undefined ? '—' : rank + 1} | ${f?.severity ?? '—'} | ${f?.score ?? '—'} | ${f?.summary ?? 'not found'} |`);
  }
  say(`\ntop ${top}:\n${all.slice(0, top).map(line).join('\n')}`);
}

/** Precision at k of each labeled file's findings. */
async function labeledReport(scratch: string, stage: () => FindingsStage, files: string[]): Promise<void> {
  say('| file | findings | labeled rows | precision at 1 | at 3 | at 5 | at 10 | top finding |\n|---|---:|---:|---:|---:|---:|---:|---|');
  for (const [i, file] of files.entries()) {
    const rows: { record: ConnRecord; malicious: boolean }[] = [];
    const findings = await replay(scratch, `labeled-${i}`, [file], stage(), (record) => {
      const label = labelOf(record);
      if (label !== null) rows.push({ record, malicious: label === 'malicious' });
    });
    const truth = findings.map((f) => mostlyMalicious(f, rows));
    const at = (k: number): string => (findings.length === 0 ? '—' : (truth.slice(0, k).filter((t) => t === true).length / Math.min(k, findings.length)).toFixed(2));
    const first = findings[0];
    say(`| ${file.split('/').pop()} | ${findings.length} | ${rows.length} | ${at(1)} | ${at(3)} | ${at(5)} | ${at(10)} | ${first === undefined ? '—' : `${first.type} ${first.src ?? '*'} → ${first.dst ?? '*'} (${first.severity})`} |`);
  }
}

async function replay(scratch: string, name: string, files: readonly string[], stage: FindingsStage, onRecord?: (record: ConnRecord) => void): Promise<StoredFinding[]> {
  const db = openDatabase(join(scratch, `${name}.sqlite`));
  try {
    await replayFindings(db, files, stage, onRecord);
    return queryFindings(db);
  } finally {
    db.close();
  }
}

/** Whether most labeled rows of the finding's entity are malicious; null when it has none. */
function mostlyMalicious(finding: StoredFinding, rows: readonly { record: ConnRecord; malicious: boolean }[]): boolean | null {
  const mine = rows.filter(
    ({ record: r }) =>
      (finding.src === null || r['id.orig_h'] === finding.src) &&
      (finding.dst === null || r['id.resp_h'] === finding.dst) &&
      (finding.port === null || r['id.resp_p'] === finding.port) &&
      (finding.proto === null || r.proto === finding.proto),
  );
  if (mine.length === 0) return null;
  return mine.filter((r) => r.malicious).length * 2 > mine.length;
}

function byDay(findings: readonly StoredFinding[]): Record<string, Record<Severity, number>> {
  const days: Record<string, Record<Severity, number>> = {};
  for (const f of findings) {
    const day = new Date(f.firstTs * 1000).toISOString().slice(0, 10);
    days[day] ??= { info: 0, low: 0, medium: 0, high: 0, critical: 0 };
    days[day][f.severity]++;
  }
  return days;
}

function dayTable(findings: readonly StoredFinding[]): string {
  const rows = Object.entries(byDay(findings)).sort(([a], [b]) => a.localeCompare(b));
  return ['| day (first connection, UTC) | info | low | medium | high | critical |', '|---|---:|---:|---:|---:|---:|', ...rows.map(([day, n]) => `| ${day} | ${n.info} | ${n.low} | ${n.medium} | ${n.high} | ${n.critical} |`)].join('\n');
}

function line(f: StoredFinding): string {
  return `  ${f.score.toFixed(1).padStart(5)} ${f.severity.padEnd(8)} ${f.type.padEnd(15)} ${f.summary}`;
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`findings-report: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
