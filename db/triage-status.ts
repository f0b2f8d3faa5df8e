// A finding's triage statuses, below everything that reads or writes them.

/** new: not looked at; acknowledged: seen, being looked at; threat: a true positive; benign: a false positive; closed: dealt with. */
export const TRIAGE_STATUSES = ['new', 'acknowledged', 'threat', 'benign', 'closed'] as const;
export type TriageStatus = (typeof TRIAGE_STATUSES)[number];

/** The statuses an analyst sets (`new` comes back only by reopening). */
export const VERDICTS = ['acknowledged', 'threat', 'benign', 'closed'] as const satisfies readonly TriageStatus[];
export type Verdict = (typeof VERDICTS)[number];
