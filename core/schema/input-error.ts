/**
 * Input errors: everything wrong with a pipeline before compute, each naming the JSON path, the
 * offending value and what is allowed. The CLI exits 2 on an InputError and 1 on anything else.
 */
export interface Issue {
  /** Dotted JSON path, e.g. `stages.cl.with.ell.min` or `parameters.h.value`. */
  path: string;
  message: string;
}

export class InputError extends Error {
  readonly issues: Issue[];
  /** True when the message says something the issue lines do not (a headline of its own). */
  private readonly ownHeadline: boolean;
  constructor(issues: Issue[], headline?: string) {
    const first = issues[0];
    super(headline ?? (issues.length === 1 ? `${first.path}: ${first.message}` : `${issues.length} problems in the pipeline; first: ${first.path}: ${first.message}`));
    this.name = 'InputError';
    this.issues = issues;
    this.ownHeadline = headline !== undefined;
  }
  /** One line per issue, for the CLI's details. */
  details(): string {
    return this.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n');
  }
  /** What the CLI prints: the message, then the issue lines unless the message already is the only one. */
  report(): string {
    if (this.issues.length === 1 && !this.ownHeadline) return `error: ${this.message}\n`;
    if (!this.ownHeadline) return `error: ${this.issues.length} problems in the pipeline:\n${this.details()}\n`;
    return `error: ${this.message}\n${this.details()}\n`;
  }
}

export const issue = (path: string, message: string): Issue => ({ path, message });

/** Render a value briefly for an error message. */
export function show(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
