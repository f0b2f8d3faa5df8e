/**
 * A copy of `text` that owns its characters. V8 keeps a cut of 13 characters or more as a view
 * into its parent string, so a field cut from a decompressed chunk and kept beyond its batch (a
 * candidate row, a training sample, an intern table, a cache key) would pin the whole chunk's
 * text. Concatenation flattens; a one-character cut is too short to be a view.
 */
export function ownString(text: string): string {
  return (' ' + text).slice(1);
}
