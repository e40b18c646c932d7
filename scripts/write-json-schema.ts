// Writes the JSON Schemas for editors from the zod schemas (the one source of the fields).
import { writeFileSync } from 'node:fs';
import { pipelineJsonSchema } from '../src/pipeline/pipeline-schema.js';
import { parallelJobJsonSchema } from '../src/spec/job-schema.js';

writeFileSync(new URL('../schema/parallel-job.schema.json', import.meta.url), `${JSON.stringify(parallelJobJsonSchema(), null, 2)}\n`);
writeFileSync(new URL('../schema/pipeline.schema.json', import.meta.url), `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`);
