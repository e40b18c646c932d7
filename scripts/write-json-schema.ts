// Writes schema/parallel-job.schema.json from the zod schema (the one source of the fields).
import { writeFileSync } from 'node:fs';
import { parallelJobJsonSchema } from '../src/spec/job-schema.js';

writeFileSync(new URL('../schema/parallel-job.schema.json', import.meta.url), `${JSON.stringify(parallelJobJsonSchema(), null, 2)}\n`);
