// The one rule for a time an operator types to filter rows, on the CLI (`--since`, `--until`) and
// in the dashboard's query strings alike: Zeek logs and every page show UTC, so a date or a date and
// time without a zone is UTC, whatever the machine's TZ. Anything else is refused, naming the forms
// allowed: `Date` would take `1`, `2024` or `2024-02-30` (as March 1st) without a word.

export const UTC_TIME_FORMS = 'a date (2024-04-19) or a date and time in UTC (2024-04-19T10:00, 2024-04-19T10:00:00Z, 2024-04-19T12:00:00+02:00)';

const FORM = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** `text` as epoch milliseconds, or null when it is not one of `UTC_TIME_FORMS` or names no real day or time. */
export function parseUtcTime(text: string): number | null {
  const match = FORM.exec(text);
  if (match === null) return null;
  const [year, month, day, hour, minute, second, fraction] = match.slice(1, 8).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, fraction * 10 ** (3 - (match[7]?.length ?? 3)));
  // Date.UTC rolls 2024-02-30 over to March 1st and 24:00 to the next day: a time that does not read back is refused.
  const back = new Date(ms);
  const readsBack =
    back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day && back.getUTCHours() === hour && back.getUTCMinutes() === minute && back.getUTCSeconds() === second;
  const offset = zoneOffsetMinutes(match[8]);
  if (!readsBack || offset === null) return null;
  return ms - offset * 60_000;
}

/** `Z` or none: 0; `+02:00`: 120; an offset beyond ±14:00 or with 60+ minutes: null. */
function zoneOffsetMinutes(zone: string | undefined): number | null {
  if (zone === undefined || zone === 'Z') return 0;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 14 || minutes > 59) return null;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}
