import type { Redis } from 'ioredis';
import { REDIS_COMPUTE_DEFAULTS } from '../spec/defaults.js';
import type { WorkerSetup } from '../worker/protocol.js';

/*
 * What the driver and the agents of one Redis compute share, besides BullMQ's queues. Every key
 * starts with the compute's prefix, so several computes can share one Redis.
 *
 *   <p>:agents                     hash  agent name → AgentInfo (JSON)
 *   <p>:agent:<name>:alive         string with a TTL, renewed by the agent's heartbeat
 *   <p>:runs                       set   run ids a driver is running now
 *   <p>:run:<id>                   string RemoteRunSpec (JSON) with a TTL, renewed by the driver
 *   <p>:run:<id>:nodes             hash  node rank → agent name (who serves which node)
 *   <p>:run:<id>:events            stream agent → driver: joined, left, log, node-failed
 *
 * A run's mini-batches are BullMQ jobs in the queue named by RemoteRunSpec.queue; a driver that
 * resumes a run opens a new queue (a new session) and agents follow it.
 */
export class RunRegistryKeys {
  constructor(readonly prefix: string) {}
  get agents() { return `${this.prefix}:agents`; }
  alive(agent: string) { return `${this.prefix}:agent:${agent}:alive`; }
  get runs() { return `${this.prefix}:runs`; }
  run(runId: string) { return `${this.prefix}:run:${runId}`; }
  nodes(runId: string) { return `${this.prefix}:run:${runId}:nodes`; }
  events(runId: string) { return `${this.prefix}:run:${runId}:events`; }
}

/** Everything an agent needs to run a job's mini-batches, as plain JSON. */
export interface RemoteRunSpec {
  runId: string;
  /** Changes when a driver resumes the run: agents of an older session drop it and join again. */
  session: string;
  /** The BullMQ queue of this session. */
  queue: string;
  /** `running`; `closing` asks agents to run shutdown() and leave; `aborting` to stop at once. */
  state: 'running' | 'closing' | 'aborting';
  /** Run directory on shared storage: agents write worker logs and resource usage there. */
  runDir: string;
  instanceCount: number;
  /** max_concurrency_per_instance as written; undefined lets each agent use its own count. */
  processesPerInstance: number | undefined;
  setup: Omit<WorkerSetup, 'nodeRank' | 'processRank' | 'globalRank' | 'worldSize'>;
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  killGraceMs: number;
  initFailuresPerProcess: number;
  maxWorkerMemoryBytes: number | undefined;
  resourceMonitorIntervalMs: number;
  /** `python` entry scripts: each agent finds its own interpreter (task.environment.python first). */
  runtime: { kind: 'node' } | { kind: 'python'; environment: string | undefined };
  tasksPerProcess: number;
}

export interface AgentInfo {
  name: string;
  host: string;
  pid: number;
  processes: number;
  startedAt: string;
  /** The run it serves now, if any. */
  serving?: string | undefined;
}

/** Events agents append to a run's stream; the driver reads them in order. */
export type AgentEvent =
  | { type: 'joined'; session: string; node: number; agent: string; host: string; processes: number }
  | { type: 'left'; session: string; node: number; agent: string; reason: string }
  | { type: 'log'; session: string; node: number; level: 'DEBUG' | 'INFO' | 'WARNING'; message: string }
  | { type: 'node-failed'; session: string; node: number; agent: string; contract: boolean; error: { name: string; message: string; stack?: string }; message: string };

export async function appendEvent(redis: Redis, keys: RunRegistryKeys, runId: string, event: AgentEvent): Promise<void> {
  await redis.xadd(keys.events(runId), 'MAXLEN', '~', '10000', '*', 'event', JSON.stringify(event));
}

/**
 * Claims the lowest free node rank of a run for an agent, atomically: a rank is free when no
 * agent holds it or its holder's heartbeat has lapsed. Returns the rank, or -1 when the run has
 * all the nodes it asked for. (Reads keys it is not passed: fine on one Redis, not on a cluster.)
 */
const CLAIM_NODE = `
local count = tonumber(ARGV[2])
for rank = 0, count - 1 do
  local holder = redis.call('HGET', KEYS[1], rank)
  if holder == ARGV[1] then return rank end
end
for rank = 0, count - 1 do
  local holder = redis.call('HGET', KEYS[1], rank)
  if (not holder) or redis.call('EXISTS', ARGV[3] .. holder .. ':alive') == 0 then
    redis.call('HSET', KEYS[1], rank, ARGV[1])
    return rank
  end
end
return -1
`;

export async function claimNode(redis: Redis, keys: RunRegistryKeys, runId: string, agent: string, instanceCount: number): Promise<number> {
  const rank = await redis.eval(CLAIM_NODE, 1, keys.nodes(runId), agent, String(instanceCount), `${keys.prefix}:agent:`);
  return Number(rank);
}

/** Frees a node rank only if this agent still holds it. */
const RELEASE_NODE = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;

export async function releaseNode(redis: Redis, keys: RunRegistryKeys, runId: string, node: number, agent: string): Promise<void> {
  await redis.eval(RELEASE_NODE, 1, keys.nodes(runId), String(node), agent);
}

/**
 * Tries in flight per worker process, from the measured run() time: 2 for slow mini-batches (so
 * agents share the work), up to 64 for quick ones (so none waits a Redis round trip). The
 * driver sizes its window with it and each agent its BullMQ concurrency, from the same numbers.
 */
export function inFlightPerProcess(averageRunMs: number | undefined): number {
  const { tasksPerProcess, maxTasksPerProcess, inFlightTargetMs } = REDIS_COMPUTE_DEFAULTS;
  if (averageRunMs === undefined) return tasksPerProcess;
  return Math.max(tasksPerProcess, Math.min(maxTasksPerProcess, Math.round(inFlightTargetMs / Math.max(averageRunMs, 0.05))));
}

/** Tries per BullMQ job for a window of `depth` tries per process (see maxTasksPerBundle). */
export function bundleSize(depth: number): number {
  return Math.max(1, Math.min(REDIS_COMPUTE_DEFAULTS.maxTasksPerBundle, Math.floor(depth / 2)));
}
