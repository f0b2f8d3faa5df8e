import { formatInspect, inspectFile } from '../../pipeline/read/inspect.js';
import type { BadLinePolicy } from '../../pipeline/read/bad-line-policy.js';

export interface InspectCommandOptions {
  json: boolean;
  badLines: BadLinePolicy;
}

/** Prints one report per file; the exit code is 1 when any file was rejected. */
export async function inspectCommand(files: string[], options: InspectCommandOptions): Promise<number> {
  let rejected = 0;
  for (const file of files) {
    const outcome = await inspectFile(file, { badLines: options.badLines });
    if (outcome.status === 'rejected') rejected++;
    process.stdout.write(options.json ? `${JSON.stringify(outcome)}\n` : `${formatInspect(outcome)}\n\n`);
  }
  if (!options.json && files.length > 1) {
    process.stdout.write(`${files.length - rejected} of ${files.length} files read, ${rejected} rejected\n`);
  }
  return rejected > 0 ? 1 : 0;
}
