import { z } from 'zod';
import { environmentSchema, inputSchema, outputSchema, parallelJobSchema } from '../spec/job-schema.js';

/*
 * The `type: pipeline` file (CLI v2 form): pipeline inputs and outputs, settings, and `jobs:`,
 * each a step. A `parallel` step is a parallel job (validated by the parallel job schema once
 * its `${{parent.…}}` bindings are bound); a `command` step runs one command line, or
 * `node_count × process_count` of them with `distribution`.
 */

const text = (what = 'a string') => z.string({ error: `expected ${what}` });
const flag = () => z.boolean({ error: 'expected true or false' });
const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const pipelineSchema = z.strictObject({
  $schema: text('a URL').optional(),
  type: z.literal('pipeline', { error: 'expected type: pipeline' }),
  name: text().optional(),
  display_name: text().optional(),
  description: text().optional(),
  experiment_name: text().optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
  settings: z
    .strictObject({
      default_compute: text('a compute name').optional(),
      default_datastore: text().optional(),
      force_rerun: flag().optional().describe('Run every step even when an earlier run could be reused. @default false'),
      continue_on_step_failure: flag().optional().describe('Accepted; a failed step always fails only its dependants here. @default true'),
    })
    .optional(),
  inputs: z.record(z.string(), inputSchema).optional(),
  outputs: z.record(z.string(), outputSchema).optional(),
  jobs: z.record(
    z.string().regex(STEP_NAME, { error: 'expected a step name of letters, digits, "_" and "-"' }),
    z.looseObject({
      type: z.enum(['parallel', 'command'], { error: 'expected type: parallel or type: command' }).optional(),
      component: text('a component file path').optional(),
    }),
    { error: 'expected a mapping of step names to steps' },
  ),
});

export type PipelineOptions = z.infer<typeof pipelineSchema>;

/** A step's output: declared here, or bound to a pipeline output with `${{parent.outputs.x}}`. */
const stepOutputSchema = z.union([outputSchema, text('${{parent.outputs.<name>}}')], { error: 'expected an output (type, path) or ${{parent.outputs.<name>}}' });

export const commandStepSchema = z.strictObject({
  type: z.literal('command'),
  component: text().optional(),
  name: text().optional(),
  display_name: text().optional(),
  description: text().optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
  command: text('a command line').min(1, { error: 'expected a command line' }),
  code: text('a folder path').optional().describe('Working folder of the command, relative to the pipeline file.'),
  environment: environmentSchema.optional(),
  environment_variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' })).optional(),
  inputs: z.record(z.string(), inputSchema).optional(),
  outputs: z.record(z.string(), stepOutputSchema).optional(),
  compute: text().optional(),
  resources: z.strictObject({ instance_count: z.int({ error: 'expected an integer >= 1' }).min(1, { error: 'expected an integer >= 1' }).optional() }).optional(),
  distribution: z
    .strictObject({
      type: z.enum(['mpi', 'pytorch'], { error: 'expected type: mpi or pytorch' }),
      process_count_per_instance: z.int({ error: 'expected an integer >= 1' }).min(1, { error: 'expected an integer >= 1' }).optional(),
    })
    .optional(),
  is_deterministic: flag().optional(),
});

export type CommandStepOptions = z.infer<typeof commandStepSchema>;

export const KNOWN_PIPELINE_FIELDS: Record<string, string[]> = {
  '': Object.keys(pipelineSchema.shape),
  settings: ['default_compute', 'default_datastore', 'force_rerun', 'continue_on_step_failure'],
  command: Object.keys(commandStepSchema.shape),
};

/** The JSON Schema of pipeline files, for editors (`npm run schema` writes it to schema/): steps as parallel jobs or command steps. */
export function pipelineJsonSchema(): Record<string, unknown> {
  const forEditors = pipelineSchema.extend({ jobs: z.record(z.string(), z.union([parallelJobSchema.extend({ component: text().optional() }), commandStepSchema])) });
  return {
    ...z.toJSONSchema(forEditors, { unrepresentable: 'any', io: 'input' }),
    title: 'minibatch pipeline',
    description: 'A type: pipeline file for minibatch: parallel, command and distributed command steps (Azure ML pipeline job vocabulary).',
  };
}
