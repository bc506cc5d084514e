#!/usr/bin/env node
// oclif launcher for the `cosmodag` CLI (commands are compiled to dist/ by `npm run build`).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
