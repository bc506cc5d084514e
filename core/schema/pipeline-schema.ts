/** JSON Schema of a pipeline file. Plugin configs (`with`) are validated against each plugin's own schema. */
const NAME = '^[A-Za-z][A-Za-z0-9_-]*$';
/** A parameter name, or a per-bin pattern with one `*` standing for a bin number ("b_*"). */
const PARAMETER_NAME = '^[A-Za-z][A-Za-z0-9_-]*(\\*[A-Za-z0-9_-]*)?$';

const methodRef = {
  description: 'a method name such as "gauss-legendre", or {"use": name, "with": {config}}',
  anyOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      required: ['use'],
      additionalProperties: false,
      properties: { use: { type: 'string', minLength: 1 }, with: { type: 'object' } },
    },
  ],
};

export const pipelineSchema = {
  type: 'object',
  required: ['name', 'stages'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    plugins: {
      type: 'array',
      description: 'extra plugin modules: package names or paths relative to the pipeline file',
      items: { type: 'string', minLength: 1 },
    },
    parameters: {
      type: 'object',
      description:
        'name -> {value?, vary?, ...}; without value, the default of the stage reading it. A name with one * ("b_*") is an ' +
        'entry for every parameter read with a bin number in its place (b_1, b_2, ...), * in its latex replaced by it; ' +
        "an explicit entry (b_3) overrides the pattern's fields for that parameter",
      propertyNames: { pattern: PARAMETER_NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          value: { type: 'number' },
          vary: { type: 'boolean', description: 'vary it (Fisher, gradient, sampling); default false' },
          prior_sigma: { type: 'number', exclusiveMinimum: 0, description: 'Gaussian prior width (Fisher)' },
          prior: {
            type: 'object',
            minProperties: 1,
            additionalProperties: false,
            description: 'sampling prior: {"uniform": [lo, hi]}, {"gaussian": [mean, sigma]}, or both (a truncated Gaussian); docs/sampling.md',
            properties: {
              uniform: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2, description: '[lo, hi] with lo < hi' },
              gaussian: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2, description: '[mean, sigma] with sigma > 0' },
            },
          },
          step: { type: 'number', exclusiveMinimum: 0, description: 'relative step for finite differences/stencils (absolute when the value is 0)' },
          latex: { type: 'string' },
        },
      },
    },
    methods: {
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: methodRef,
    },
    stages: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        required: ['use'],
        additionalProperties: false,
        properties: {
          use: { type: 'string', pattern: '^[a-z0-9-]+/[A-Za-z0-9_.-]+$', description: 'plugin id port/method' },
          with: { type: 'object' },
          inputs: {
            type: 'object',
            description: 'input name -> providing stage, or a list of stages for an input that takes several',
            additionalProperties: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 } }] },
          },
          methods: { type: 'object', additionalProperties: methodRef },
        },
      },
    },
    outputs: {
      type: 'object',
      additionalProperties: {
        anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 } }],
      },
    },
  },
} as const;
