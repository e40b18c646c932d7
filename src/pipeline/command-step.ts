import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';
import type { PipelineStep } from './load-pipeline.js';

export interface CommandStepResult {
  status: 'succeeded' | 'failed';
  reason?: string;
  /** How a distributed step was started: Open MPI's mpirun, or our own launcher. */
  launcher: 'mpirun' | 'built-in';
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
  const perNode = distribution ? (distribution.process_count_per_instance ?? 1) : 1;
  const worldSize = distribution ? nodes * perNode : 1;
  const log = createWriteStream(logPath);
  const launch: Launch = { command, cwd, env, worldSize, perNode, masterPort: distribution ? await freePort() : 0, log, signal, tagged: distribution !== undefined };
  const mpirun = distribution?.type === 'mpi' ? findMpirun() : undefined;
  if (distribution) log.write(`# ${distribution.type} step: ${worldSize} rank(s) = ${nodes} node(s) x ${perNode}, started by ${mpirun ? `mpirun (${mpirun})` : 'the built-in launcher'}\n`);
  const outcome = mpirun ? await launchWithMpirun(mpirun, launch) : await launchBuiltIn(launch);
  await new Promise<void>((done) => log.end(done));
  if (!outcome.failure) return { status: 'succeeded', log: logPath, launcher: mpirun ? 'mpirun' : 'built-in' };
  const failure = outcome.failure;
  const who = distribution ? `rank ${failure.rank} of ${worldSize}` : 'the command';
  const how = signal.aborted ? 'was stopped (the pipeline was cancelled)' : failure.signal ? `was killed by ${failure.signal}` : `exited with code ${failure.code}`;
  const tail = outcome.tails[failure.rank] ?? [];
  const reason = `${who} ${how}${tail.length > 0 ? `; last lines of its stderr:\n${tail.map((line) => `    ${line}`).join('\n')}` : ' (no stderr)'}`;
  return { status: 'failed', reason, log: logPath, launcher: mpirun ? 'mpirun' : 'built-in' };
}

interface Launch {
  command: string;
  cwd: string;
  env: Record<string, string>;
  worldSize: number;
  perNode: number;
  masterPort: number;
  log: NodeJS.WritableStream;
  signal: AbortSignal;
  /** Prefix log lines with `[rank N]` (distributed steps). */
  tagged: boolean;
}

interface LaunchOutcome {
  failure: { rank: number; code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** The last stderr lines of each rank. */
  tails: string[][];
}

const TAIL_LINES = 20;

function keepTail(tail: string[], lines: string[]): void {
  tail.push(...lines.filter((line) => line.length > 0));
  if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
}

/** The rank environment of DESIGN.md §6, for one rank. */
function rankEnvironment(rank: number, launch: Launch): Record<string, string> {
  if (!launch.tagged) return {};
  return {
    RANK: String(rank),
    WORLD_SIZE: String(launch.worldSize),
    LOCAL_RANK: String(rank % launch.perNode),
    NODE_RANK: String(Math.floor(rank / launch.perNode)),
    OMPI_COMM_WORLD_RANK: String(rank),
    OMPI_COMM_WORLD_SIZE: String(launch.worldSize),
    OMPI_COMM_WORLD_LOCAL_RANK: String(rank % launch.perNode),
    OMPI_COMM_WORLD_LOCAL_SIZE: String(launch.perNode),
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(launch.masterPort),
  };
}

/** Our own launcher: one `sh -c` per rank; the first rank to fail stops the others. */
async function launchBuiltIn(launch: Launch): Promise<LaunchOutcome> {
  const tails: string[][] = [];
  const children = Array.from({ length: launch.worldSize }, (_, rank) => {
    // Its own process group, so stopping a rank stops what its shell started too.
    const child = spawn('/bin/sh', ['-c', launch.command], { cwd: launch.cwd, env: { ...launch.env, ...rankEnvironment(rank, launch) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const tail: string[] = [];
    tails[rank] = tail;
    const prefix = launch.tagged ? `[rank ${rank}] ` : '';
    const collect = (chunk: Buffer, isStderr: boolean) => {
      const text = chunk.toString('utf8');
      launch.log.write(prefix ? text.replace(/^(?=.)/gm, prefix) : text);
      if (isStderr) keepTail(tail, text.split('\n'));
    };
    child.stdout.on('data', (chunk: Buffer) => collect(chunk, false));
    child.stderr.on('data', (chunk: Buffer) => collect(chunk, true));
    return child;
  });
  const onAbort = () => {
    for (const child of children) killGroup(child);
  };
  launch.signal.addEventListener('abort', onAbort, { once: true });
  let failure: LaunchOutcome['failure'];
  await Promise.all(
    children.map(
      (child, rank) =>
        new Promise<void>((done) => {
          child.on('error', () => {
            failure ??= { rank, code: 127, signal: null };
            done();
          });
          child.on('close', (code, killedBy) => {
            if ((code !== 0 || killedBy) && !failure) {
              failure = { rank, code, signal: killedBy };
              // One rank failing fails the step: the others are stopped.
              for (const other of children) if (other !== child) killGroup(other);
            }
            done();
          });
        }),
    ),
  );
  launch.signal.removeEventListener('abort', onAbort);
  return { failure, tails };
}

/** `mpirun` on PATH (Debian's openmpi-bin), unless MINIBATCH_MPIRUN=0 asks for the built-in launcher. */
function findMpirun(): string | undefined {
  if (process.env.MINIBATCH_MPIRUN === '0') return undefined;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'mpirun'))) return join(dir, 'mpirun');
  }
  return undefined;
}

const EXIT_MARK = '__minibatch_rank_exit__';

/**
 * Open MPI's mpirun on this machine: `-np worldSize`, output tagged per rank. Each rank's shell
 * adds the rank environment and reports its own exit code on stderr (mpirun does not say which
 * rank failed), so the step names the failing rank and shows that rank's stderr.
 */
async function launchWithMpirun(mpirun: string, launch: Launch): Promise<LaunchOutcome> {
  const script = [
    `export RANK=$OMPI_COMM_WORLD_RANK WORLD_SIZE=$OMPI_COMM_WORLD_SIZE LOCAL_RANK=$((OMPI_COMM_WORLD_RANK % ${launch.perNode})) NODE_RANK=$((OMPI_COMM_WORLD_RANK / ${launch.perNode})) MASTER_ADDR=127.0.0.1 MASTER_PORT=${launch.masterPort}`,
    `export OMPI_COMM_WORLD_LOCAL_RANK=$LOCAL_RANK OMPI_COMM_WORLD_LOCAL_SIZE=${launch.perNode}`,
    `/bin/sh -c "$MINIBATCH_COMMAND"`,
    'code=$?',
    `[ $code -ne 0 ] && echo "${EXIT_MARK} $code" >&2`,
    'exit $code',
  ].join('\n');
  const args = ['--allow-run-as-root', '--oversubscribe', '--tag-output', '-np', String(launch.worldSize), '/bin/sh', '-c', script];
  const child = spawn(mpirun, args, { cwd: launch.cwd, env: { ...launch.env, MINIBATCH_COMMAND: launch.command, OMPI_MCA_btl_vader_single_copy_mechanism: 'none' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const tails: string[][] = Array.from({ length: launch.worldSize }, () => []);
  const launcherLines: string[] = [];
  let failure: LaunchOutcome['failure'];
  const handle = (text: string) => {
    for (const line of text.split('\n')) {
      const tagged = /^\[\d+,(\d+)\]<(stdout|stderr)>:(.*)$/.exec(line);
      if (!tagged) {
        if (line.length > 0) {
          launch.log.write(`[mpirun] ${line}\n`);
          keepTail(launcherLines, [line]);
        }
        continue;
      }
      const rank = Number(tagged[1]);
      const body = tagged[3] ?? '';
      const exit = new RegExp(`^${EXIT_MARK} (\\d+)$`).exec(body);
      if (exit) {
        failure ??= { rank, code: Number(exit[1]), signal: null };
        continue;
      }
      launch.log.write(`[rank ${rank}] ${body}\n`);
      if (tagged[2] === 'stderr') keepTail(tails[rank] ?? [], [body]);
    }
  };
  // Whole lines only: a chunk may end mid-line, and a tag is only at a line's start.
  const wholeLines = (stream: NodeJS.ReadableStream) => {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const cut = pending.lastIndexOf('\n');
      if (cut >= 0) {
        handle(pending.slice(0, cut));
        pending = pending.slice(cut + 1);
      }
    });
    return () => pending;
  };
  const restOut = wholeLines(child.stdout);
  const restErr = wholeLines(child.stderr);
  const onAbort = () => killGroup(child);
  launch.signal.addEventListener('abort', onAbort, { once: true });
  const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => {
    child.on('error', () => done([127, null]));
    child.on('close', (exitCode, signalName) => done([exitCode, signalName]));
  });
  handle(`${restOut()}\n${restErr()}`);
  launch.signal.removeEventListener('abort', onAbort);
  if (code !== 0 && !failure) {
    // mpirun itself failed (could not start the ranks): its own words are the error.
    failure = { rank: 0, code, signal: killedBy };
    tails[0] = launcherLines;
  }
  return { failure, tails };
}

/** SIGTERM to a rank's whole process group (its shell and what the shell started). */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
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
