import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BackendHandlers, QueueBackend } from '../scheduling/queue-backend.js';
import { baseWorkerSetup } from '../scheduling/local-backend.js';
import { INIT_FAILURES_PER_PROCESS, REDIS_COMPUTE_DEFAULTS, TIMEOUT_KILL_GRACE_MS } from '../spec/defaults.js';
import { redactUrl, type RedisCompute } from '../spec/compute-config.js';
import type { ResolvedParallelJob } from '../spec/resolve-job.js';
import type { AttemptOutcome, AttemptTask } from '../worker/worker-pool.js';
import { connectRedis } from './redis-connection.js';
import { RunRegistryKeys, bundleSize, inFlightPerProcess, type AgentEvent, type RemoteRunSpec } from './run-registry.js';

export interface RedisBackendOptions {
  compute: RedisCompute;
  job: ResolvedParallelJob;
  runId: string;
  runDir: string;
  /** Grace for shutdown() at the end, in ms. */
  shutdownGraceMs?: number;
  /** Called once per node that joins, for the run's records (which agent is which node). */
  onNodeJoined?: (node: number, agent: string, host: string, processes: number) => void;
}

/** The part of an outcome that travels back from an agent (the task stays with the driver). */
export type RemoteOutcome = Omit<AttemptOutcome, 'task'>;

/**
 * The BullMQ job tries become: a bundle of them. Quick mini-batches travel several to a job, so
 * BullMQ's own cost per job (its scripts, its event stream) is paid once for the bundle.
 */
export interface RemoteBundle {
  tasks: { batch: AttemptTask['batch']; attempt: number }[];
}

/** A bundle's answer: one outcome per task, in the bundle's order. */
export interface RemoteBundleOutcome {
  outcomes: RemoteOutcome[];
}

interface JoinedNode {
  agent: string;
  processes: number;
}

/**
 * The driver's side of the Redis compute. Mini-batch tries become BullMQ jobs in a queue of
 * this run's session; agents (`minibatch agent`) take them and answer through the job's return
 * value, which QueueEvents delivers here. No more jobs are queued than the joined agents can
 * hold, so the queue never holds the whole input. The scheduler above is the same as in local
 * mode: tries, thresholds, timeouts and the exactly-once commit do not depend on the backend.
 *
 * No speculative copies (no `startCopy`/`cancel`, so the scheduler never makes one): the driver
 * cannot place a BullMQ job on an idle process (whichever agent worker asks first takes it, and
 * agents queue tries per process, so a copy may wait behind the very straggler it should
 * overtake), and it cannot stop a running job on an agent, so the loser would keep a process
 * busy to the end. Copies would need the agent to pick and kill them itself.
 */
export class RedisBackend implements QueueBackend {
  readonly name = 'redis';
  readonly #options: RedisBackendOptions;
  readonly #keys: RunRegistryKeys;
  readonly #clients: Redis[] = [];
  #redis: Redis | undefined;
  #queue: Queue | undefined;
  #events: QueueEvents | undefined;
  #spec: RemoteRunSpec | undefined;
  #handlers: BackendHandlers | undefined;
  /** Bundles queued or running, by BullMQ job id. */
  readonly #inFlight = new Map<string, AttemptTask[]>();
  /** Tries in those bundles: what the window counts. */
  #inFlightTasks = 0;
  /** Tries dispatched in this tick, queued together at its end. */
  #outgoing: AttemptTask[] = [];
  #bundleSize = 1;
  readonly #nodes = new Map<number, JoinedNode>();
  #failedNodes = 0;
  #sequence = 0;
  #timers: NodeJS.Timeout[] = [];
  #reading = false;
  #stopped = false;
  #lastEventId = '0';
  #warnedWaiting = false;
  /** Moving average of run() time, to size the window of tries in flight. */
  #averageRunMs: number | undefined;

  constructor(options: RedisBackendOptions) {
    this.#options = options;
    this.#keys = new RunRegistryKeys(options.compute.prefix);
  }

  #client(): Redis {
    const client = connectRedis(this.#options.compute);
    this.#clients.push(client);
    return client;
  }

  async start(handlers: BackendHandlers): Promise<void> {
    this.#handlers = handlers;
    const { compute, job, runId } = this.#options;
    const redis = this.#client();
    this.#redis = redis;
    const session = randomBytes(4).toString('hex');
    const queueName = `run.${runId}.${session}`;
    // A resumed run: the earlier session's queue (and whatever it still holds) is dropped.
    const previous = await redis.get(this.#keys.run(runId));
    if (previous) await this.#obliterate((JSON.parse(previous) as RemoteRunSpec).queue);
    await redis.del(this.#keys.nodes(runId), this.#keys.events(runId));

    this.#queue = new Queue(queueName, { connection: this.#client(), prefix: compute.prefix });
    this.#events = new QueueEvents(queueName, { connection: this.#client(), prefix: compute.prefix });
    this.#events.on('completed', ({ jobId, returnvalue }) => this.#onCompleted(jobId, returnvalue as unknown));
    this.#events.on('failed', ({ jobId, failedReason }) => this.#onFailed(jobId, failedReason));
    await this.#events.waitUntilReady();

    this.#spec = {
      runId,
      session,
      queue: queueName,
      state: 'running',
      runDir: this.#options.runDir,
      instanceCount: job.instanceCount,
      processesPerInstance: job.options.max_concurrency_per_instance ?? job.processesPerInstance,
      setup: withoutWorldSize(baseWorkerSetup(job, 0)),
      env: { ...job.environmentVariables },
      cwd: job.code,
      timeoutMs: job.timeoutMs,
      killGraceMs: TIMEOUT_KILL_GRACE_MS,
      initFailuresPerProcess: INIT_FAILURES_PER_PROCESS,
      maxWorkerMemoryBytes: job.maxWorkerMemoryBytes,
      resourceMonitorIntervalMs: job.resourceMonitorIntervalMs,
      runtime: job.entryScript.endsWith('.py') ? { kind: 'python', environment: job.pythonEnvironment } : { kind: 'node' },
      tasksPerProcess: REDIS_COMPUTE_DEFAULTS.tasksPerProcess,
    };
    await this.#publishSpec();
    await redis.sadd(this.#keys.runs, runId);
    handlers.onLog('INFO', `compute "${compute.name}" at ${redactUrl(compute.url)}: run queued as ${queueName}; waiting for ${job.instanceCount} agent(s)`);

    this.#timers.push(setInterval(() => void this.#heartbeat(), compute.heartbeatIntervalMs));
    this.#timers.push(
      setTimeout(() => {
        if (this.#nodes.size === 0 && !this.#stopped) {
          this.#warnedWaiting = true;
          handlers.onLog('WARNING', `no agent has joined yet: ${this.describeWaiting()}`);
        }
      }, 3_000),
    );
    void this.#readEvents();
  }

  capacity(): number {
    if (this.#stopped) return 0;
    let slots = 0;
    for (const node of this.#nodes.values()) slots += node.processes * this.#depth();
    return Math.max(0, slots - this.#inFlightTasks - this.#outgoing.length);
  }

  #depth(): number {
    return inFlightPerProcess(this.#averageRunMs);
  }

  describeWaiting(): string {
    const { compute, job } = this.#options;
    return `${this.#nodes.size} of ${job.instanceCount} agent(s) joined on compute "${compute.name}" (${redactUrl(compute.url)}); start agents with: minibatch agent --compute ${compute.name}`;
  }

  dispatch(task: AttemptTask): void {
    if (!this.#queue) throw new Error('RedisBackend.dispatch() before start()');
    if (this.#outgoing.length === 0) queueMicrotask(() => this.#flush());
    this.#outgoing.push(task);
  }

  /**
   * Queues what this tick dispatched, cut into bundles of `bundleSize(depth)` tries, with one
   * addBulk. A bundle of slow mini-batches is one try: their results must not wait for others.
   */
  #flush(): void {
    const queue = this.#queue;
    const tasks = this.#outgoing;
    this.#outgoing = [];
    if (!queue || tasks.length === 0) return;
    const size = bundleSize(this.#depth());
    if (size !== this.#bundleSize) {
      this.#bundleSize = size;
      this.#handlers?.onLog('DEBUG', `mini-batches now travel ${size} to a BullMQ job (run() takes ${this.#averageRunMs?.toFixed(2) ?? '?'} ms on average)`);
    }
    const jobs: { name: string; data: RemoteBundle; opts: { jobId: string; removeOnComplete: true; removeOnFail: true; attempts: 1 } }[] = [];
    for (let at = 0; at < tasks.length; at += size) {
      const bundle = tasks.slice(at, at + size);
      const first = bundle[0] as AttemptTask;
      const jobId = `${first.batch.id}.${first.attempt}.${++this.#sequence}`;
      this.#inFlight.set(jobId, bundle);
      this.#inFlightTasks += bundle.length;
      jobs.push({ name: 'mini-batch', data: { tasks: bundle.map(({ batch, attempt }) => ({ batch, attempt })) }, opts: { jobId, removeOnComplete: true, removeOnFail: true, attempts: 1 } });
    }
    queue.addBulk(jobs).catch((error: unknown) => {
      // Not queued (Redis gone for good): give the tasks back; the scheduler dispatches them again.
      const lost = jobs.flatMap((job) => this.#take(job.opts.jobId) ?? []);
      if (lost.length === 0) return;
      this.#handlers?.onLog('WARNING', `could not queue ${lost.length} mini-batch(es): ${(error as Error).message}`);
      setTimeout(() => this.#handlers?.onReturned(lost), 1_000);
    });
  }

  /** Removes a bundle from the window; undefined when it is not (or no longer) in flight. */
  #take(jobId: string): AttemptTask[] | undefined {
    const bundle = this.#inFlight.get(jobId);
    if (!bundle) return undefined;
    this.#inFlight.delete(jobId);
    this.#inFlightTasks -= bundle.length;
    return bundle;
  }

  #onCompleted(jobId: string, returnvalue: unknown): void {
    if (this.#stopped) return;
    const bundle = this.#take(jobId);
    if (!bundle) return;
    const { outcomes } = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as RemoteBundleOutcome;
    bundle.forEach((task, index) => {
      const outcome = outcomes[index];
      if (!outcome) {
        // An answer without this task's outcome cannot be trusted for it: run it again, not a try.
        this.#handlers?.onReturned([task]);
        return;
      }
      this.#averageRunMs = this.#averageRunMs === undefined ? outcome.durationMs : this.#averageRunMs * 0.9 + outcome.durationMs * 0.1;
      this.#handlers?.onOutcome({ ...outcome, task });
    });
  }

  /** An agent gave the job up (it left, or BullMQ gave up on a stalled job): not a try; queue it again. */
  #onFailed(jobId: string, reason: string): void {
    if (this.#stopped) return;
    const bundle = this.#take(jobId);
    if (!bundle) return;
    this.#handlers?.onLog('INFO', `mini-batch(es) ${bundle.map((task) => task.batch.id).join(', ')} came back from their agent (${reason}); queueing them again`);
    this.#handlers?.onReturned(bundle);
  }

  async #publishSpec(): Promise<void> {
    const { compute, runId } = this.#options;
    await this.#redis?.set(this.#keys.run(runId), JSON.stringify(this.#spec), 'PX', compute.heartbeatTimeoutMs);
  }

  /** Renews the run's registration and drops nodes whose agent stopped answering. */
  async #heartbeat(): Promise<void> {
    const redis = this.#redis;
    if (!redis || this.#stopped) return;
    const { runId } = this.#options;
    try {
      const renewed = await redis.set(this.#keys.run(runId), JSON.stringify(this.#spec), 'PX', this.#options.compute.heartbeatTimeoutMs, 'XX');
      if (renewed === null) {
        // Redis forgot the run (restarted without persistence): register again; what was queued is lost, so queue it again.
        this.#handlers?.onLog('WARNING', `Redis no longer knows run ${runId} (was it restarted without persistence?); registering it again and re-queueing ${this.#inFlightTasks} mini-batch(es)`);
        await this.#publishSpec();
        await redis.sadd(this.#keys.runs, runId);
        const lost = [...this.#inFlight.values()].flat();
        this.#inFlight.clear();
        this.#inFlightTasks = 0;
        this.#nodes.clear();
        if (lost.length > 0) this.#handlers?.onReturned(lost);
        return;
      }
      for (const [node, joined] of this.#nodes) {
        if ((await redis.exists(this.#keys.alive(joined.agent))) === 0) {
          this.#nodes.delete(node);
          await redis.hdel(this.#keys.nodes(runId), String(node));
          this.#handlers?.onLog('WARNING', `agent ${joined.agent} (node-${node}) stopped answering; its running mini-batches go back to the queue when their lease lapses`);
        }
      }
    } catch (error) {
      this.#handlers?.onLog('WARNING', `Redis heartbeat failed: ${(error as Error).message}; retrying`);
    }
  }

  /** Reads what agents report (joins, logs, node failures), in order, until the run ends. */
  async #readEvents(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    const reader = this.#client();
    const key = this.#keys.events(this.#options.runId);
    while (!this.#stopped) {
      let answer: [string, [string, string[]][]][] | null;
      try {
        answer = (await reader.xread('BLOCK', 500, 'STREAMS', key, this.#lastEventId)) as [string, [string, string[]][]][] | null;
      } catch {
        if (this.#stopped) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      for (const [, entries] of answer ?? []) {
        for (const [id, fields] of entries) {
          this.#lastEventId = id;
          const event = JSON.parse(fields[1] ?? '{}') as AgentEvent;
          if (event.session === this.#spec?.session) this.#onAgentEvent(event);
        }
      }
    }
    this.#reading = false;
  }

  #onAgentEvent(event: AgentEvent): void {
    const handlers = this.#handlers;
    if (!handlers || this.#stopped) return;
    switch (event.type) {
      case 'joined':
        this.#nodes.set(event.node, { agent: event.agent, processes: event.processes });
        handlers.onLog('INFO', `node-${event.node} is agent ${event.agent} on ${event.host} (${event.processes} process(es))`);
        if (this.#warnedWaiting) handlers.onLog('WARNING', `agent ${event.agent} joined as node-${event.node}`);
        this.#options.onNodeJoined?.(event.node, event.agent, event.host, event.processes);
        handlers.onCapacity();
        break;
      case 'left':
        // Only if it still holds the rank: another agent may have joined as it already.
        if (this.#nodes.get(event.node)?.agent === event.agent) this.#nodes.delete(event.node);
        handlers.onLog('INFO', `agent ${event.agent} (node-${event.node}) left: ${event.reason}`);
        break;
      case 'log':
        handlers.onLog(event.level, event.node >= 0 ? `node-${event.node}: ${event.message}` : event.message);
        break;
      case 'node-failed':
        this.#nodes.delete(event.node);
        this.#failedNodes++;
        handlers.onLog('WARNING', `node-${event.node} (agent ${event.agent}) stopped: ${event.message}`);
        if (event.contract || this.#failedNodes >= this.#options.job.instanceCount) {
          handlers.onFatal({ node: event.node, contract: event.contract, error: event.error, message: event.message });
        }
        break;
    }
  }

  async abort(): Promise<void> {
    await this.#finish('aborting', 5_000);
  }

  async close(): Promise<void> {
    await this.#finish('closing', (this.#options.shutdownGraceMs ?? 10_000) + 5_000);
  }

  /** Tells the agents to leave (at once, or after shutdown()), waits for them, then removes the run's keys. */
  async #finish(state: 'closing' | 'aborting', waitMs: number): Promise<void> {
    if (!this.#spec || !this.#redis) {
      await this.#disconnect();
      return;
    }
    this.#spec.state = state;
    try {
      await this.#publishSpec();
      const deadline = Date.now() + waitMs;
      while (this.#nodes.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      this.#stopped = true;
      for (const timer of this.#timers) clearTimeout(timer);
      const { runId } = this.#options;
      try {
        await this.#obliterate(this.#spec.queue);
        await this.#redis.srem(this.#keys.runs, runId);
        await this.#redis.del(this.#keys.run(runId), this.#keys.nodes(runId), this.#keys.events(runId));
      } catch (error) {
        this.#handlers?.onLog('WARNING', `could not remove run ${runId} from Redis: ${(error as Error).message}`);
      }
      await this.#disconnect();
    }
  }

  async #obliterate(queueName: string): Promise<void> {
    const queue = new Queue(queueName, { connection: this.#redis ?? this.#client(), prefix: this.#options.compute.prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }

  async #disconnect(): Promise<void> {
    this.#stopped = true;
    await this.#events?.close().catch(() => {});
    await this.#queue?.close().catch(() => {});
    for (const client of this.#clients) client.disconnect();
  }
}

function withoutWorldSize<T extends { worldSize: number }>(setup: T): Omit<T, 'worldSize'> {
  const { worldSize: _ignored, ...rest } = setup;
  return rest;
}
