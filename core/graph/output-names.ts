/**
 * What an output file name may be (validate checks it; OutputWriter checks every file it writes): a plain file name inside --out (no directory parts, no "..", not hidden, no control
 * characters, at most 255 bytes). Returns the problem, or null.
 */
export function outputNameProblem(name: string): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'is empty';
  if (/[/\\]/.test(name)) return `"${name}" has a directory part; outputs are plain file names inside --out`;
  if (name === '.' || name === '..' || name.startsWith('.')) return `"${name}" is not allowed (hidden names and ".." are reserved)`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return `${JSON.stringify(name)} contains control characters`;
  if (Buffer.byteLength(name) > 255) return `"${name.slice(0, 40)}..." is longer than 255 bytes`;
  if (name.endsWith('.partial') || name.includes('.tmp-')) return `"${name}" ends like cosmodag's own temporary files`;
  return null;
}

/**
 * A path cosmodag itself writes under --out (compare's variants/<variant>/cl.tsv, sweep's points/<id>/...): every
 * segment a plain file name by outputNameProblem, separated by "/", never absolute. Returns the problem, or null.
 */
export function outputPathProblem(file: string): string | null {
  if (typeof file !== 'string' || file.length === 0) return 'is empty';
  const parts = file.split('/');
  for (const p of parts) {
    const bad = outputNameProblem(p);
    if (bad) return parts.length > 1 ? `${JSON.stringify(file)}: the part ${bad}` : bad;
  }
  return null;
}
