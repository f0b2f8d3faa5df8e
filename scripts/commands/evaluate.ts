import { initBackend } from '../../model/backend.js';
import { evaluateFile, evaluateFiles, type EvaluateOptions, type EvaluationOutcome } from '../../pipeline/train/evaluate.js';

export interface EvaluateCommandOptions extends EvaluateOptions {
  files: string[];
  trainFiles: string[];
  testFiles: string[];
  json: boolean;
}

/** `zeek-anomaly evaluate`: detection quality on labeled logs; exit code 1 when nothing could be evaluated. */
export async function evaluateCommand(options: EvaluateCommandOptions): Promise<number> {
  const backend = await initBackend({ log: (message) => process.stderr.write(`${message}\n`) });
  const outcomes: EvaluationOutcome[] = [];
  const print = (outcome: EvaluationOutcome): void => {
    outcomes.push(outcome);
    process.stdout.write(options.json ? `${JSON.stringify(outcome)}\n` : `${formatOutcome(outcome)}\n`);
  };
  if (!options.json) process.stdout.write(`${HEADER}\n`);
  if (options.trainFiles.length > 0 || options.testFiles.length > 0) {
    print(await evaluateFiles(backend.tf, options.trainFiles, options.testFiles, options));
  }
  for (const file of options.files) print(await evaluateFile(backend.tf, file, options));
  return outcomes.some((o) => o.status === 'evaluated') ? 0 : 1;
}

const HEADER = `${'file'.padEnd(44)} ${'preset'.padEnd(8)} ${'context'.padEnd(7)} ${'train'.padStart(7)} ${'test'.padStart(7)} ${'malic.'.padStart(7)} ${'ROC-AUC'.padStart(8)} ${'PR-AUC'.padStart(7)} ${'prec.'.padStart(6)} ${'recall'.padStart(6)} ${'flagged'.padStart(7)} ${'conn'.padStart(6)} ${'ctx'.padStart(6)} ${'hosts'.padStart(6)} ${'host AUC'.padStart(8)} ${'P@5'.padStart(5)}`;

function formatOutcome(o: EvaluationOutcome): string {
  const name = o.file.split('/').pop() ?? o.file;
  if (o.status === 'skipped') return `${name.padEnd(44)} ${o.preset.padEnd(8)} skipped: ${o.reason}`;
  const n = (v: number): string => v.toLocaleString('en-US');
  const f = (v: number | undefined, digits = 3): string => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(digits));
  const atFive = o.hosts.precisionAt.find((p) => p.k === 5)?.precision;
  return [
    name.padEnd(44),
    o.preset.padEnd(8),
    (o.context ? 'yes' : 'no').padEnd(7),
    n(o.train).padStart(7),
    n(o.test).padStart(7),
    n(o.malicious).padStart(7),
    f(o.rocAuc).padStart(8),
    f(o.prAuc).padStart(7),
    f(o.precision, 2).padStart(6),
    f(o.recall, 2).padStart(6),
    `${(o.flagRate * 100).toFixed(1)}%`.padStart(7),
    f(o.parts?.connRocAuc).padStart(6),
    f(o.parts?.contextRocAuc).padStart(6),
    n(o.hosts.entities).padStart(6),
    f(o.hosts.rocAuc).padStart(8),
    f(atFive, 2).padStart(5),
  ].join(' ');
}
