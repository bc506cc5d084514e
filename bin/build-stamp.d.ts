/** Types of build-stamp.js (plain JavaScript, so that it runs without a build). */
export declare const STAMP_FILE: string;
export declare const CLI_SOURCES: readonly string[];
export declare const ALL_SOURCES: readonly string[];

export interface SourceState {
  newestMs: number;
  count: number;
  /** Relative to the root; null for a directory without .ts files. */
  newestFile: string | null;
}

export type BuildStatus = { status: 'fresh' } | { status: 'no-sources' } | { status: 'stale'; reason: string };

export declare function scanSources(root: string, entries: readonly string[]): Record<string, SourceState>;
export declare function writeStamp(dist: string, scan: Record<string, SourceState>): void;
export declare function removeStamp(dist: string): void;
export declare function checkBuild(opts: { root: string; dist?: string; entries?: readonly string[] }): BuildStatus;
