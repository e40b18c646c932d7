import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { findPython } from '../bridges/python-interpreter.js';
import { serializeError } from '../errors.js';
import { ResourceMonitor } from '../logs/resource-monitor.js';
import { RunDirectory } from '../logs/run-directory.js';
import { detectGpus } from '../run/gpus.js';
import { gpuEnvironment } from '../scheduling/local-backend.js';
import { redactUrl, type RedisCompute } from '../spec/compute-config.js';
import { WorkerPool, type AttemptOutcome, type AttemptTask } from '../worker/worker-pool.js';
import type { WorkerRuntime } from '../worker/worker-process.js';
import type { RemoteBundle, RemoteBundleOutcome, RemoteOutcome } from './redis-backend.js';
import { connectRedis } from './redis-connection.js';
import { appendEvent, claimNode, inFlightPerProcess, releaseNode, RunRegistryKeys, type AgentEvent, type AgentInfo, type RemoteRunSpec } from './run-registry.js';

export interface AgentOptions {
  compute: RedisCompute;
  /** Unique among the compute's agents; the host name by default. */
  name: string;
  /** Worker processes when the job does not set max_concurrency_per_instance; this machine's cores by default. */
  processes?: number | undefined;
  /** `--python` for Python entry scripts. */
  python?: string | undefined;
  /** How often to look for runs to serve, in ms. */
  pollIntervalMs?: number;
  /** What the agent is doing, one line at a time. */
  say: (line: string) => void;
}

/**
 * `minibatch agent`: one node of a Redis compute. It says it is alive, looks for runs that still
 * need nodes, claims one node rank of one run at a time, runs that run's mini-batches on its own
 * worker processes (the same WorkerPool and bridges as local mode), and goes back to waiting
 * when the run ends. It survives job after job; it stops on SIGINT/SIGTERM.
 */
export class Agent {
  readonly #options: AgentOptions;
  readonly #keys: RunRegistryKeys;
  readonly #redis: Redis;
  #session: ServingSession | undefined;
  /** Runs (by session) this agent cannot serve, so it says why once and does not retry. */
  readonly #refused = new Set<string>();
  #stopping = false;
  #heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(options: AgentOptions) {
    this.#options = options;
    this.#keys = new RunRegistryKeys(options.compute.prefix);
    this.#redis = connectRedis(options.compute);
  }

  get name(): string {
    return this.#options.name;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { compute, say } = this.#options;
    await this.#heartbeat();
    this.#heartbeatTimer = setInterval(() => void this.#heartbeat(), compute.heartbeatIntervalMs);
    say(`agent ${this.name} on ${hostname()}: serving compute "${compute.name}" at ${redactUrl(compute.url)} (prefix ${compute.prefix}); waiting for runs`);
    const pollMs = this.#options.pollIntervalMs ?? 500;
    while (!signal.aborted) {
      try {
        await this.#tick();
      } catch (error) {
        say(`Redis error: ${(error as Error).message}; retrying`);
      }
      await sleep(pollMs, undefined, { signal }).catch(() => {});
    }
    await this.stop('the agent was stopped');
  }

  /** Leaves the run it serves (its mini-batches go back to the queue) and unregisters. */
  async stop(reason: string): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#heartbeatTimer);
    await this.#session?.leave('abort', reason);
    this.#session = undefined;
    try {
      await this.#redis.hdel(this.#keys.agents, this.name);
      await this.#redis.del(this.#keys.alive(this.name));
    } catch {
      // Redis unreachable: the heartbeat lapses on its own.
    }
    this.#redis.disconnect();
    this.#options.say(`agent ${this.name} stopped`);
  }

  async #heartbeat(): Promise<void> {
    const info: AgentInfo = { name: this.name, host: hostname(), pid: process.pid, processes: this.#options.processes ?? availableParallelism(), startedAt: new Date().toISOString(), serving: this.#session?.spec.runId };
    try {
      await this.#redis.set(this.#keys.alive(this.name), '1', 'PX', this.#options.compute.heartbeatTimeoutMs);
      await this.#redis.hset(this.#keys.agents, this.name, JSON.stringify(info));
    } catch {
      // Retried at the next beat; ioredis reconnects by itself.
    }
  }

  async #tick(): Promise<void> {
    const session = this.#session;
    if (session) {
      const raw = await this.#redis.get(this.#keys.run(session.spec.runId));
      const spec = raw ? (JSON.parse(raw) as RemoteRunSpec) : undefined;
      if (!spec) await this.#leave('abort', 'the driver is gone (its registration lapsed)');
      else if (spec.session !== session.spec.session) await this.#leave('abort', 'the driver started a new session (the run was resumed)');
      else if (spec.state === 'aborting') await this.#leave('abort', 'the run was stopped');
      else if (spec.state === 'closing') await this.#leave('close', 'the run is finishing');
      else if (session.failed) await this.#leave('abort', 'this node failed');
      // Redis restarted empty and the driver registered the run again: the claim is gone, and the
      // driver waits for agents to join. Leave (the driver queued our mini-batches again) and rejoin.
      else if ((await this.#redis.hget(this.#keys.nodes(spec.runId), String(session.node))) !== this.name) await this.#leave('abort', 'Redis no longer holds this node\'s claim (was it restarted?); joining again');
      return;
    }
    for (const runId of await this.#redis.smembers(this.#keys.runs)) {
      const raw = await this.#redis.get(this.#keys.run(runId));
      if (!raw) continue;
      const spec = JSON.parse(raw) as RemoteRunSpec;
      if (spec.state !== 'running' || this.#refused.has(spec.session)) continue;
      const runtime = await this.#runtimeFor(spec);
      if (!runtime) continue;
      const node = await claimNode(this.#redis, this.#keys, runId, this.name, spec.instanceCount);
      if (node < 0) continue;
      const processes = spec.processesPerInstance ?? this.#options.processes ?? availableParallelism();
      this.#session = new ServingSession(spec, node, processes, runtime, this.#options, this.#keys, this.#redis);
      this.#options.say(`run ${runId}: joined as node-${node} with ${processes} worker process(es)`);
      await this.#session.start();
      await this.#heartbeat();
      return;
    }
  }

  async #leave(mode: 'abort' | 'close', reason: string): Promise<void> {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    await session.leave(mode, reason);
    this.#options.say(`run ${session.spec.runId}: left (${reason}); ${session.finished} mini-batch(es) run here`);
    await this.#heartbeat();
  }

  /** The interpreter for this run here, or undefined (said once) when this agent cannot serve it. */
  async #runtimeFor(spec: RemoteRunSpec): Promise<WorkerRuntime | undefined> {
    const refuse = async (why: string) => {
      this.#refused.add(spec.session);
      this.#options.say(`run ${spec.runId}: cannot serve it: ${why}`);
      await appendEvent(this.#redis, this.#keys, spec.runId, { type: 'log', session: spec.session, node: -1, level: 'WARNING', message: `agent ${this.name} cannot serve this run: ${why}` });
      return undefined;
    };
    const script = resolve(spec.cwd, spec.setup.entryScript);
    if (!existsSync(script)) return refuse(`the entry script ${script} is not on this machine (code, inputs and outputs must be on a path every node reaches)`);
    if (!existsSync(spec.runDir)) return refuse(`the run directory ${spec.runDir} is not on this machine (it must be on a path every node reaches)`);
    if (spec.runtime.kind === 'node') return { kind: 'node' };
    try {
      const python = await findPython({ flag: this.#options.python, env: process.env.MINIBATCH_PYTHON, environment: spec.runtime.environment });
      return { kind: 'python', interpreter: python.path };
    } catch (error) {
      return refuse((error as Error).message);
    }
  }
}

/** One node of one run, served by this agent: a worker pool fed by a BullMQ worker. */
class ServingSession {
  readonly spec: RemoteRunSpec;
  readonly node: number;
  readonly #processes: number;
  readonly #runtime: WorkerRuntime;
  readonly #options: AgentOptions;
  readonly #keys: RunRegistryKeys;
  readonly #redis: Redis;
  #pool: WorkerPool | undefined;
  #worker: Worker | undefined;
  #connection: Redis | undefined;
  #monitor: ResourceMonitor | undefined;
  /** Tries BullMQ gave us that wait for a free worker process. */
  readonly #waiting: AttemptTask[] = [];
  readonly #pending = new Map<AttemptTask, { resolve: (outcome: RemoteOutcome) => void; reject: (error: Error) => void }>();
  failed = false;
  finished = 0;
  #averageRunMs: number | undefined;
  /** Tries in the last bundle taken: BullMQ's concurrency counts bundles, the window tries. */
  #bundleSize = 1;

  constructor(spec: RemoteRunSpec, node: number, processes: number, runtime: WorkerRuntime, options: AgentOptions, keys: RunRegistryKeys, redis: Redis) {
    this.spec = spec;
    this.node = node;
    this.#processes = processes;
    this.#runtime = runtime;
    this.#options = options;
    this.#keys = keys;
    this.#redis = redis;
  }

  /** Reports to the driver; a lost report is not worth failing for (logs), so errors are dropped. */
  #event(event: Omit<AgentEvent, 'session' | 'node'> & Record<string, unknown>): Promise<void> {
    return appendEvent(this.#redis, this.#keys, this.spec.runId, { ...event, session: this.spec.session, node: this.node } as AgentEvent).catch(() => {});
  }

  async start(): Promise<void> {
    const { spec } = this;
    const directory = new RunDirectory(spec.runDir, spec.runId);
    const worldSize = spec.instanceCount * this.#processes;
    this.#pool = new WorkerPool(
      {
        nodeRank: this.node,
        processes: this.#processes,
        firstGlobalRank: this.node * this.#processes,
        setup: { ...spec.setup, worldSize },
        env: spec.env,
        cwd: spec.cwd,
        timeoutMs: spec.timeoutMs,
        killGraceMs: spec.killGraceMs,
        maxInitFailures: spec.initFailuresPerProcess * this.#processes,
        tasksPerProcess: spec.tasksPerProcess,
        logs: {
          stdout: (node, process) => directory.userStdout(node, process),
          stderr: (node, process) => directory.userStderr(node, process),
          error: (node, process) => directory.userError(node, process),
        },
        runtime: this.#runtime,
        maxWorkerMemoryBytes: spec.maxWorkerMemoryBytes,
        perProcessEnv: gpuEnvironment(detectGpus()),
      },
      {
        onOutcome: (outcome) => this.#onOutcome(outcome),
        // Sent to a process that died before starting them: never tried, so run them here again.
        onReturned: (tasks) => {
          this.#waiting.unshift(...tasks);
          this.#pump();
        },
        onCapacity: () => this.#pump(),
        onLog: (level, message) => void this.#event({ type: 'log', level, message }),
        onNodeFailed: (failure) => {
          this.failed = true;
          void this.#event({ type: 'node-failed', agent: this.#options.name, contract: failure.contract, error: failure.error, message: failure.message });
          this.#options.say(`run ${spec.runId}: node-${this.node} failed: ${failure.message}`);
        },
      },
    );
    this.#pool.start();
    this.#monitor = new ResourceMonitor(directory.resourceUsage(this.node), spec.runDir, spec.resourceMonitorIntervalMs);
    this.#monitor.start();
    const { compute } = this.#options;
    this.#connection = connectRedis(compute);
    this.#worker = new Worker(spec.queue, (job: Job<RemoteBundle>) => this.#process(job), {
      connection: this.#connection,
      prefix: compute.prefix,
      // Grows with quick mini-batches (see #onOutcome); starts where the driver's window starts.
      concurrency: this.#processes * inFlightPerProcess(undefined),
      lockDuration: compute.lockDurationMs,
      stalledInterval: compute.stalledIntervalMs,
      // A mini-batch whose agents keep dying is not the job's fault: let it come back many times.
      maxStalledCount: 100,
    });
    this.#worker.on('error', () => {});
    await this.#event({ type: 'joined', agent: this.#options.name, host: hostname(), processes: this.#processes });
  }

  /** A bundle's tries run on the pool like any others; the job answers once all have ended. */
  async #process(job: Job<RemoteBundle>): Promise<RemoteBundleOutcome> {
    const tasks: AttemptTask[] = job.data.tasks.map(({ batch, attempt }) => ({ batch, attempt }));
    if (tasks.length !== this.#bundleSize) {
      this.#bundleSize = Math.max(1, tasks.length);
      this.#resize();
    }
    const outcomes = tasks.map(
      (task) =>
        new Promise<RemoteOutcome>((resolve, reject) => {
          this.#pending.set(task, { resolve, reject });
          this.#waiting.push(task);
        }),
    );
    this.#pump();
    return { outcomes: await Promise.all(outcomes) };
  }

  /** Take as many tries at once as the driver's window holds for this run() time, no more. */
  #resize(): void {
    const concurrency = Math.max(1, Math.ceil((this.#processes * inFlightPerProcess(this.#averageRunMs)) / this.#bundleSize));
    if (this.#worker && this.#worker.concurrency !== concurrency) this.#worker.concurrency = concurrency;
  }

  #pump(): void {
    const pool = this.#pool;
    if (!pool) return;
    while (this.#waiting.length > 0 && pool.capacity() > 0) {
      const task = this.#waiting.shift();
      if (task) pool.dispatch(task);
    }
  }

  #onOutcome(outcome: AttemptOutcome): void {
    const pending = this.#pending.get(outcome.task);
    if (!pending) return;
    this.#pending.delete(outcome.task);
    this.finished++;
    // An agent that grabbed more than it can run would leave the others idle.
    this.#averageRunMs = this.#averageRunMs === undefined ? outcome.durationMs : this.#averageRunMs * 0.9 + outcome.durationMs * 0.1;
    this.#resize();
    const { task: _task, ...rest } = outcome;
    pending.resolve(rest);
  }

  /** `close`: the run is done, scripts' shutdown() runs. `abort`: stop now; unfinished tries go back to the queue. */
  async leave(mode: 'abort' | 'close', reason: string): Promise<void> {
    for (const { reject } of this.#pending.values()) reject(new Error(`agent ${this.#options.name} left: ${reason}`));
    this.#pending.clear();
    this.#waiting.length = 0;
    await this.#worker?.close(mode === 'abort').catch(() => {});
    this.#connection?.disconnect();
    if (mode === 'close') await this.#pool?.close(10_000);
    else await this.#pool?.terminate();
    this.#monitor?.stop();
    await this.#event({ type: 'left', agent: this.#options.name, reason });
    await releaseNode(this.#redis, this.#keys, this.spec.runId, this.node, this.#options.name).catch(() => {});
  }
}
