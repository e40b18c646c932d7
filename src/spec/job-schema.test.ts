import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { knownFieldsAt, parallelJobJsonSchema } from './job-schema.js';

describe('job schema', () => {
  it('the committed JSON Schema is the one the zod schema generates (run `npm run schema`)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../schema/parallel-job.schema.json', import.meta.url), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(parallelJobJsonSchema())));
  });

  it('describes fields and forbids unknown ones', () => {
    const schema = parallelJobJsonSchema() as { properties: Record<string, { description?: string }>; additionalProperties: unknown };
    assert.equal(schema.additionalProperties, false);
    assert.match(schema.properties.mini_batch_size?.description ?? '', /Files per mini-batch/);
  });

  it('knows the field names at each level, for suggestions', () => {
    assert.ok(knownFieldsAt([]).includes('retry_settings'));
    assert.deepEqual(knownFieldsAt(['retry_settings']).sort(), ['max_retries', 'timeout']);
    assert.ok(knownFieldsAt(['inputs', 'anything']).includes('mode'));
    assert.ok(knownFieldsAt(['task']).includes('entry_script'));
  });
});
