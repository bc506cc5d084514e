/** The pipeline file as written by a user (after schema validation and defaults). */
export interface ParameterEntry {
  /** Absent: the default of the stage reading it (always present in a planned pipeline, Plan.pipeline). */
  value?: number;
  vary?: boolean;
  prior_sigma?: number;
  /** Sampling prior (core/sampling/priors.ts): uniform [lo, hi] and/or gaussian [mean, sigma]. */
  prior?: { uniform?: [number, number]; gaussian?: [number, number] };
  step?: number;
  latex?: string;
}

export type MethodRef = string | { use: string; with?: Record<string, unknown> };

export interface StageEntry {
  use: string;
  with?: Record<string, unknown>;
  /** Input name -> the providing stage, or a list of them (a `many` input; a string is a one-element list). */
  inputs?: Record<string, string | string[]>;
  methods?: Record<string, MethodRef>;
}

export interface Pipeline {
  name: string;
  description?: string;
  plugins?: string[];
  parameters?: Record<string, ParameterEntry>;
  methods?: Record<string, MethodRef>;
  stages: Record<string, StageEntry>;
  outputs?: Record<string, string | string[]>;
}
