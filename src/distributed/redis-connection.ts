import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { InvalidInputError } from '../errors.js';
import { redactUrl, type RedisCompute } from '../spec/compute-config.js';

function optionsFor(compute: RedisCompute): RedisOptions {
  const options: RedisOptions = {
    // BullMQ's blocking commands need this; it also makes commands wait out a Redis restart.
    maxRetriesPerRequest: null,
    connectionName: 'minibatch',
  };
  if (compute.username !== undefined) options.username = compute.username;
  if (compute.password !== undefined) options.password = compute.password;
  if (compute.tls === true) options.tls = {};
  else if (typeof compute.tls === 'object') {
    options.tls = {
      ...(compute.tls.caFile ? { ca: readFileSync(compute.tls.caFile) } : {}),
      ...(compute.tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: compute.tls.rejectUnauthorized } : {}),
    };
  }
  return options;
}

/** A client that rides out disconnections (Redis restarting), reconnecting with backoff. */
export function connectRedis(compute: RedisCompute): Redis {
  const client = new Redis(compute.url, { ...optionsFor(compute), retryStrategy: (times) => Math.min(times * 200, 2_000) });
  // Connection errors are retried; without a listener ioredis would print each one.
  client.on('error', () => {});
  return client;
}

/**
 * Fails fast, with the compute named and the password hidden, when Redis cannot be reached or
 * refuses us: better than a driver or agent waiting forever on a typo.
 */
export async function checkRedisReachable(compute: RedisCompute, timeoutMs = 5_000): Promise<string> {
  const probe = new Redis(compute.url, { ...optionsFor(compute), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  probe.on('error', () => {});
  try {
    await probe.connect();
    const info = await probe.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch (error) {
    throw new InvalidInputError(
      'E_COMPUTE_UNREACHABLE',
      `compute "${compute.name}" (${compute.definedIn}): cannot reach Redis at ${redactUrl(compute.url)}: ${(error as Error).message}`,
    );
  } finally {
    probe.disconnect();
  }
}
