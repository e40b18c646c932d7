import { extname } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { CommandJob } from './sdk-jobs.js';

/** `MpiStep(...)`'s arguments (SDK v1), as in the reference. */
export interface MpiStepOptions {
  name: string;
  source_directory?: string;
  script_name: string;
  arguments?: (string | number)[];
  compute_target?: string;
  node_count?: number;
  process_count_per_node?: number;
  /** Input names → paths (folders or files); the script gets them as `${{inputs.<name>}}` in arguments. */
  inputs?: Record<string, string>;
  /** Output names → paths (or undefined for a folder under the run). */
  outputs?: Record<string, string | undefined>;
  allow_reuse?: boolean;
  /** Name → value pairs given to every rank as `AML_PARAMETER_<name>` environment variables. */
  params?: Record<string, string | number | boolean>;
  environment_variables?: Record<string, string>;
}

/**
 * `MpiStep`: a pipeline step running `script_name` on `node_count × process_count_per_node`
 * ranks (through mpirun when installed). Python scripts run with python3, JS with node.
 */
export function MpiStep(options: MpiStepOptions): CommandJob {
  const nodes = options.node_count ?? 1;
  const perNode = options.process_count_per_node ?? 1;
  for (const [field, value] of [['node_count', nodes], ['process_count_per_node', perNode]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new InvalidInputError('E_JOB_INVALID', `MpiStep ${options.name}: ${field}: expected an integer >= 1, got ${JSON.stringify(value)}`);
  }
  const runner = extname(options.script_name) === '.py' ? 'python3' : 'node';
  const quote = (value: string | number) => (/^[\w@%+=:,./${}-]+$/.test(String(value)) ? String(value) : `'${String(value).replace(/'/g, `'\\''`)}'`);
  const environment: Record<string, string> = { ...options.environment_variables };
  for (const [name, value] of Object.entries(options.params ?? {})) environment[`AML_PARAMETER_${name}`] = String(value);
  return new CommandJob({
    name: options.name,
    command: [runner, quote(options.script_name), ...(options.arguments ?? []).map(quote)].join(' '),
    ...(options.source_directory !== undefined ? { code: options.source_directory } : {}),
    ...(options.compute_target !== undefined ? { compute: options.compute_target } : {}),
    resources: { instance_count: nodes },
    distribution: { type: 'mpi', process_count_per_instance: perNode },
    ...(Object.keys(environment).length > 0 ? { environment_variables: environment } : {}),
    ...(options.inputs ? { inputs: Object.fromEntries(Object.entries(options.inputs).map(([name, path]) => [name, { type: 'uri_folder' as const, path }])) } : {}),
    ...(options.outputs ? { outputs: Object.fromEntries(Object.entries(options.outputs).map(([name, path]) => [name, { type: 'uri_folder' as const, ...(path !== undefined ? { path } : {}) }])) } : {}),
    is_deterministic: options.allow_reuse ?? true,
  });
}
