import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';
import type { PipelineStep } from './load-pipeline.js';

export interface CommandStepResult {
  status: 'succeeded' | 'failed';
  reason?: string;
  /** The log of the command (every rank's, prefixed, for a distributed step). */
  log: string;
}

const EXPRESSION = /\$\{\{\s*(inputs|outputs)\.([A-Za-z_][\w-]*)\s*\}\}/g;

/**
 * The command line with `${{inputs.x}}` and `${{outputs.y}}` bound to values and paths.
 * `$[[ … ]]` is an optional group: kept (without the brackets) when every input it names was
 * given, dropped otherwise, as the reference does for optional inputs.
 */
export function bindCommand(command: string, inputs: Record<string, string>, outputs: Record<string, string>, declared: ReadonlySet<string>): string {
  const withGroups = command.replace(/\$\[\[([\s\S]*?)\]\]/g, (_whole, group: string) => {
    const names = [...group.matchAll(EXPRESSION)].filter((match) => match[1] === 'inputs').map((match) => match[2] ?? '');
    return names.every((name) => name in inputs) ? group : '';
  });
  return withGroups.replace(EXPRESSION, (whole, kind: string, name: string) => {
    const value = kind === 'inputs' ? inputs[name] : outputs[name];
    if (value !== undefined) return value;
    if (kind === 'inputs' && declared.has(name)) {
      throw new InvalidInputError('E_JOB_INVALID', `command: \${{inputs.${name}}} is an optional input that was not given; put it inside $[[ … ]] to drop it when missing`);
    }
    throw new InvalidInputError('E_JOB_INVALID', `command: ${whole} names no ${kind === 'inputs' ? 'input' : 'output'} of this step; expected one of: ${Object.keys(kind === 'inputs' ? inputs : outputs).join(', ') || '(none)'}`);
  });
}

/**
 * Runs a command step: `sh -c <command>` in its code folder, stdout and stderr to
 * `logs/user/std_log.txt`. With `distribution`, `instance_count × process_count_per_instance`
 * copies run at once with the rank environment of DESIGN.md §6; the first rank to fail fails
 * the step, and the others are stopped.
 */
export async function runCommandStep(step: PipelineStep, pipelineDir: string, signal: AbortSignal): Promise<CommandStepResult> {
  const options = step.command;
  if (!options) throw new Error(`step ${step.name} is not a command step`);
  const inputs: Record<string, string> = {};
  const declared = new Set<string>();
  for (const [name, value] of Object.entries(options.inputs ?? {})) {
    declared.add(name);
    if (typeof value === 'object') {
      if (!existsSync(value.path)) {
        if (value.optional) continue;
        throw new InvalidInputError('E_INPUT_NOT_FOUND', `step ${step.name}: input ${name}: ${value.path} does not exist`);
      }
      inputs[name] = value.path;
    } else inputs[name] = String(value);
  }
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(step.outputs)) {
    mkdirSync(output.type === 'uri_file' ? dirname(output.path) : output.path, { recursive: true });
    outputs[name] = output.path;
  }
  const command = bindCommand(options.command, inputs, outputs, declared);
  const cwd = options.code ? (isAbsolute(options.code) ? options.code : resolve(pipelineDir, options.code)) : pipelineDir;
  if (!existsSync(cwd)) throw new InvalidInputError('E_INPUT_NOT_FOUND', `step ${step.name}: code: ${cwd} does not exist`);
  const logPath = join(step.directory.logs, 'user', 'std_log.txt');
  mkdirSync(dirname(logPath), { recursive: true });
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const [key, value] of Object.entries(options.environment_variables ?? {})) env[key] = String(value);

  const distribution = options.distribution;
  const nodes = options.resources?.instance_count ?? 1;
  const perNode = distribution ? (options.distribution?.process_count_per_instance ?? 1) : 1;
  const worldSize = distribution ? nodes * perNode : 1;
  const masterPort = distribution ? await freePort() : 0;
  const log = createWriteStream(logPath);
  const tails: string[][] = [];
  const children = Array.from({ length: worldSize }, (_, rank) => {
    const rankEnv = distribution
      ? {
          RANK: String(rank),
          WORLD_SIZE: String(worldSize),
          LOCAL_RANK: String(rank % perNode),
          NODE_RANK: String(Math.floor(rank / perNode)),
          OMPI_COMM_WORLD_RANK: String(rank),
          OMPI_COMM_WORLD_SIZE: String(worldSize),
          OMPI_COMM_WORLD_LOCAL_RANK: String(rank % perNode),
          OMPI_COMM_WORLD_LOCAL_SIZE: String(perNode),
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(masterPort),
        }
      : {};
    const child = spawn('/bin/sh', ['-c', command], { cwd, env: { ...env, ...rankEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    tails[rank] = tail;
    const prefix = distribution ? `[rank ${rank}] ` : '';
    const collect = (chunk: Buffer, keep: boolean) => {
      const text = chunk.toString('utf8');
      log.write(prefix ? text.replace(/^(?=.)/gm, prefix) : text);
      if (keep) {
        tail.push(...text.split('\n').filter((line) => line.length > 0));
        if (tail.length > 20) tail.splice(0, tail.length - 20);
      }
    };
    child.stdout.on('data', (chunk: Buffer) => collect(chunk, false));
    child.stderr.on('data', (chunk: Buffer) => collect(chunk, true));
    return child;
  });
  const onAbort = () => {
    for (const child of children) child.kill('SIGTERM');
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let firstFailure: { rank: number; code: number | null; signal: NodeJS.Signals | null } | undefined;
  await Promise.all(
    children.map(
      (child, rank) =>
        new Promise<void>((done) => {
          child.on('error', () => {
            firstFailure ??= { rank, code: 127, signal: null };
            done();
          });
          child.on('close', (code, killedBy) => {
            if ((code !== 0 || killedBy) && !firstFailure) {
              firstFailure = { rank, code, signal: killedBy };
              // One rank failing fails the step: the others are stopped.
              for (const other of children) if (other !== child) other.kill('SIGTERM');
            }
            done();
          });
        }),
    ),
  );
  signal.removeEventListener('abort', onAbort);
  await new Promise<void>((done) => log.end(done));
  if (!firstFailure) return { status: 'succeeded', log: logPath };
  const failure = firstFailure;
  const who = distribution ? `rank ${failure.rank} of ${worldSize}` : 'the command';
  const how = signal.aborted ? 'was stopped (the pipeline was cancelled)' : failure.signal ? `was killed by ${failure.signal}` : `exited with code ${failure.code}`;
  const tail = tails[failure.rank] ?? [];
  const reason = `${who} ${how}${tail.length > 0 ? `; last lines of its stderr:\n${tail.map((line) => `    ${line}`).join('\n')}` : ' (no stderr)'}`;
  return { status: 'failed', reason, log: logPath };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 29500));
    });
  });
}
