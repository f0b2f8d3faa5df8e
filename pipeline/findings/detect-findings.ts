import type { Surroundings } from './around.js';
import type { Candidate, Detector } from './detector.js';
import type { FileActivity } from './file-activity.js';

/** What the detectors saw in one file's activity: those that read the file's flags (`afterFlags`) or the others. */
export function detectCandidates(detectors: ReadonlyMap<string, Detector>, activity: FileActivity, around: Surroundings, afterFlags = false): Candidate[] {
  return [...detectors.values()].filter((d) => (d.readsFlags === true) === afterFlags).flatMap((detector) => detector.detect(activity, around));
}
