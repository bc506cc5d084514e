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

/** What plannedOutputFiles needs of a planned stage. */
interface WritingStage {
  plugin: { id: string; outputFiles?(file: string, ctx: { config: unknown; params: Record<string, number> }): string[] };
  config: unknown;
}

/**
 * Every file the pipeline's `outputs` entries will write, companions included (StagePlugin.outputFiles: cl.json and
 * cl.png beside cl.tsv, sigmas.tsv beside fisher.tsv), known before compute; and the problems: a companion whose
 * name is not a plain file name, or that another entry writes too. `at` is the JSON path of the entry. Entries of
 * unknown stages, or of stages whose plugin does not say, contribute their declared names.
 */
export function plannedOutputFiles(
  outputs: Record<string, string | string[]> | undefined, stages: ReadonlyMap<string, WritingStage>, params: Record<string, number>,
): { files: { file: string; at: string }[]; problems: { path: string; message: string }[] } {
  const files: { file: string; at: string }[] = [];
  const problems: { path: string; message: string }[] = [];
  const owner = new Map<string, { at: string; companion: string }>();
  for (const [stage, declared] of Object.entries(outputs ?? {})) {
    const st = stages.get(stage);
    ([] as string[]).concat(declared).forEach((name, i) => {
      const at = Array.isArray(declared) ? `outputs.${stage}[${i}]` : `outputs.${stage}`;
      let names = [name];
      if (st?.plugin.outputFiles) {
        try {
          names = [name, ...st.plugin.outputFiles(name, { config: st.config, params }).filter((f) => f !== name)];
        } catch (e) {
          problems.push({ path: at, message: `${st.plugin.id} cannot say which files it writes: ${(e as Error).message}` });
        }
      }
      for (const f of names) {
        const companion = f === name ? '' : ` (written by ${st!.plugin.id} beside ${name})`;
        const bad = outputNameProblem(f);
        if (bad) {
          problems.push({ path: at, message: `the file name ${bad}${companion}` });
          continue;
        }
        const other = owner.get(f);
        if (other !== undefined && other.at !== at) {
          problems.push({ path: at, message: `${f}${companion} is also written by ${other.at}${other.companion}; every output needs its own file names` });
          continue;
        }
        if (other === undefined) {
          owner.set(f, { at, companion });
          files.push({ file: f, at });
        }
      }
    });
  }
  return { files, problems };
}
