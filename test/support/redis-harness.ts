import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { CLI, REPO, tempDir } from '../helpers.js';

/** Debian's redis-server (installed by .ci/run); tests of the Redis compute skip without it. */
export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path));
export const NO_REDIS = REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server)';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface AgentProcess {
  name: string;
  child: ChildProcess;
  output: () => string;
}

/**
 * A real redis-server on 127.0.0.1 (a free port, no persistence) plus `minibatch agent`
 * processes, for tests of the Redis compute. Short lease and heartbeat settings, so a killed
 * agent's work comes back in seconds.
 */
export class RedisHarness {
  readonly dir = tempDir('mb-redis-');
  readonly configFile = join(this.dir, 'minibatch.config.yml');
  readonly compute = 'test-redis';
  readonly agents: AgentProcess[] = [];
  #server: ChildProcess | undefined;
  port = 0;

  static async start(extraEnv: Record<string, string> = {}): Promise<RedisHarness> {
    const harness = new RedisHarness(extraEnv);
    await harness.#startServer();
    return harness;
  }

  private constructor(readonly extraEnv: Record<string, string>) {}

  async #startServer(port?: number): Promise<void> {
    if (!REDIS_SERVER) throw new Error('redis-server is not installed');
    this.port = port ?? (await freePort());
    this.#server = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const ping = spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' });
      if (ping.stdout?.trim() === 'PONG') break;
      if (ping.error) {
        // no redis-cli: give the server a moment instead
        await sleep(300);
        break;
      }
      await sleep(100);
    }
    writeFileSync(
      this.configFile,
      stringify({
        computes: [
          { name: this.compute, type: 'redis', url: `redis://127.0.0.1:${this.port}`, prefix: 'mbtest', lock_duration: 2, stalled_interval: 1, heartbeat_interval: 0.3, heartbeat_timeout: 2 },
        ],
      }),
    );
  }

  /** What the CLI needs to find the compute. */
  get env(): Record<string, string> {
    return { MINIBATCH_CONFIG: this.configFile, ...this.extraEnv };
  }

  /** Starts `minibatch agent` and waits until it is listening for runs. */
  async startAgent(name: string, processes = 2): Promise<AgentProcess> {
    const child = spawn(process.execPath, [CLI, 'agent', '--compute', this.compute, '--node-name', name, '--processes', String(processes)], {
      cwd: REPO,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    const agent = { name, child, output: () => output };
    this.agents.push(agent);
    for (let i = 0; i < 200 && !output.includes('waiting for runs'); i++) {
      if (child.exitCode !== null) throw new Error(`agent ${name} exited: ${output}`);
      await sleep(50);
    }
    return agent;
  }

  async killAgent(agent: AgentProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (agent.child.exitCode !== null || agent.child.signalCode !== null) return;
    const exited = new Promise((resolve) => agent.child.once('exit', resolve));
    agent.child.kill(signal);
    await exited;
  }

  async stopAgents(): Promise<void> {
    await Promise.all(this.agents.map((agent) => this.killAgent(agent, 'SIGTERM')));
    this.agents.length = 0;
  }

  /** Stops the server; `restart` brings it back on the same port (empty: it keeps nothing). */
  async stopServer(): Promise<void> {
    const server = this.#server;
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
  }

  /** Kills the server and starts an empty one on the same port: a restart without persistence. */
  async restartServer(): Promise<void> {
    await this.stopServer();
    await this.#startServer(this.port);
  }

  async stop(): Promise<void> {
    await this.stopAgents();
    await this.stopServer();
  }
}
