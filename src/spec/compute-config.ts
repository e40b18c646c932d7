import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { CONFIG_FILE_NAME, REDIS_COMPUTE_DEFAULTS } from './defaults.js';
import { formatIssues } from './schema-errors.js';
import { closestName } from './suggest.js';
import { YamlSource, type FieldPath } from './yaml-source.js';
import { lazy } from './lazy.js';

/*
 * minibatch.config.yml: the named computes a job's `compute:` can refer to.
 *
 *   computes:
 *     - name: cpu-cluster
 *       type: redis
 *       url: redis://10.0.0.5:6379
 *       password_env: MINIBATCH_REDIS_PASSWORD
 */

/** Built on first use (`lazy`): most runs read no config file. */
function buildSchemas() {
  const seconds = (what: string) => z.number({ error: `expected ${what} in seconds` }).positive({ error: `expected ${what} in seconds, > 0` });

  const redisComputeSchema = z.strictObject({
    name: z.string({ error: 'expected a name' }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'expected a name of letters, digits, "_", "." and "-"' }),
    type: z.literal('redis', { error: 'expected type: redis (or local)' }),
    url: z.string({ error: 'expected a redis:// or rediss:// URL' }).regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' }),
    prefix: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected a key prefix of letters, digits, "_", "." and "-"' }).optional(),
    username: z.string().optional(),
    /** The name of an environment variable holding the password: secrets stay out of the file. */
    password_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected the name of an environment variable' }).optional(),
    tls: z.union([z.boolean(), z.strictObject({ ca_file: z.string().optional(), reject_unauthorized: z.boolean().optional() })]).optional(),
    lock_duration: seconds('lock_duration').optional(),
    stalled_interval: seconds('stalled_interval').optional(),
    heartbeat_interval: seconds('heartbeat_interval').optional(),
    heartbeat_timeout: seconds('heartbeat_timeout').optional(),
  });

  const localComputeSchema = z.strictObject({
    name: z.string({ error: 'expected a name' }),
    type: z.literal('local'),
  });

  const configSchema = z.strictObject({
    computes: z.array(z.discriminatedUnion('type', [redisComputeSchema, localComputeSchema], { error: 'expected type: redis or type: local' })).optional(),
  });
  return { redisComputeSchema, configSchema };
}

const schemas = lazy(buildSchemas);

/** A Redis compute with every default applied and the password read from its variable. */
export interface RedisCompute {
  readonly kind: 'redis';
  readonly name: string;
  readonly url: string;
  readonly prefix: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean | { caFile?: string | undefined; rejectUnauthorized?: boolean | undefined };
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  /** Where it was defined, for messages. */
  readonly definedIn: string;
}

export type ComputeTarget = { readonly kind: 'local'; readonly name: string } | RedisCompute;

export interface ComputeConfig {
  /** The file read, or undefined when there is none. */
  readonly file: string | undefined;
  readonly computes: ReadonlyMap<string, ComputeTarget>;
}

/** The config file in use: `MINIBATCH_CONFIG`, else `./minibatch.config.yml`, else `~/minibatch.config.yml`. */
export function findConfigFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  if (env.MINIBATCH_CONFIG) {
    const explicit = resolve(cwd, env.MINIBATCH_CONFIG);
    if (!existsSync(explicit)) throw new InvalidInputError('E_CONFIG_INVALID', `MINIBATCH_CONFIG names ${explicit}, which does not exist`);
    return explicit;
  }
  for (const candidate of [join(cwd, CONFIG_FILE_NAME), join(homedir(), CONFIG_FILE_NAME)]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function loadComputeConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ComputeConfig {
  const file = findConfigFile(env, cwd);
  if (!file) return { file: undefined, computes: new Map() };
  const source = YamlSource.read(file);
  const data = source.toJS() ?? {};
  const parsed = schemas().configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const knownFields = (path: FieldPath) => (path.length === 0 ? ['computes'] : Object.keys(schemas().redisComputeSchema.shape));
    throw configError(file, formatIssues(parsed.error.issues, source, knownFields));
  }
  const computes = new Map<string, ComputeTarget>();
  const problems: string[] = [];
  for (const [index, entry] of (parsed.data.computes ?? []).entries()) {
    if (computes.has(entry.name)) {
      problems.push(`${source.locate(['computes', index, 'name'])}: computes[${index}].name: "${entry.name}" is defined twice`);
      continue;
    }
    if (entry.type === 'local') {
      computes.set(entry.name, { kind: 'local', name: entry.name });
      continue;
    }
    let password: string | undefined;
    if (entry.password_env) {
      password = env[entry.password_env];
      if (password === undefined) problems.push(`${source.locate(['computes', index, 'password_env'])}: computes[${index}].password_env: the environment variable ${entry.password_env} is not set`);
    }
    computes.set(entry.name, {
      kind: 'redis',
      name: entry.name,
      url: entry.url,
      prefix: entry.prefix ?? REDIS_COMPUTE_DEFAULTS.prefix,
      username: entry.username,
      password,
      tls: typeof entry.tls === 'object' ? { caFile: entry.tls.ca_file, rejectUnauthorized: entry.tls.reject_unauthorized } : (entry.tls ?? entry.url.startsWith('rediss://')),
      lockDurationMs: (entry.lock_duration ?? REDIS_COMPUTE_DEFAULTS.lockDurationSeconds) * 1000,
      stalledIntervalMs: (entry.stalled_interval ?? REDIS_COMPUTE_DEFAULTS.stalledIntervalSeconds) * 1000,
      heartbeatIntervalMs: (entry.heartbeat_interval ?? REDIS_COMPUTE_DEFAULTS.heartbeatIntervalSeconds) * 1000,
      heartbeatTimeoutMs: (entry.heartbeat_timeout ?? REDIS_COMPUTE_DEFAULTS.heartbeatTimeoutSeconds) * 1000,
      definedIn: source.locate(['computes', index]),
    });
  }
  if (problems.length > 0) throw configError(file, problems);
  return { file, computes };
}

function configError(file: string, problems: string[]): InvalidInputError {
  return new InvalidInputError('E_CONFIG_INVALID', problems.length === 1 ? (problems[0] ?? file) : `${file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`);
}

/**
 * The compute a job runs on. `local` (or none) runs here. `azureml:<name>` and `<name>` look the
 * name up in the config; with no config file at all, a named compute runs locally with a
 * notice (an Azure job file runs unchanged), but a name missing from an existing config is an
 * error: the user meant one of theirs.
 */
export function lookupCompute(requested: string | undefined, loadConfig: () => ComputeConfig): { target: ComputeTarget; notice?: string } {
  if (requested === undefined || requested === 'local') return { target: { kind: 'local', name: 'local' } };
  const config = loadConfig();
  const name = requested.replace(/^azureml:/, '');
  const found = config.computes.get(name);
  if (found) return { target: found };
  if (!config.file) {
    return {
      target: { kind: 'local', name: 'local' },
      notice: `compute "${requested}" is not configured on this machine (no ${CONFIG_FILE_NAME} in this folder or your home, and MINIBATCH_CONFIG is not set); running locally`,
    };
  }
  const known = [...config.computes.keys()];
  const suggestion = closestName(name, known);
  throw new InvalidInputError(
    'E_CONFIG_INVALID',
    `compute "${requested}" is not defined in ${config.file}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; expected one of: local${known.length > 0 ? `, ${known.join(', ')}` : ''}`,
  );
}

/** The URL for messages: the password, if the URL carries one, never appears. */
export function redactUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*)@/, (_match, scheme: string, credentials: string) => `${scheme}${credentials.includes(':') ? `${credentials.split(':')[0]}:***` : '***'}@`);
}
