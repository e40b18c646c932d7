import { hostname } from 'node:os';
import { Agent } from '../../distributed/agent.js';
import { checkRedisReachable } from '../../distributed/redis-connection.js';
import { InvalidInputError } from '../../errors.js';
import { loadComputeConfig } from '../../spec/compute-config.js';
import { EXIT } from '../exit.js';

export interface AgentCommandOptions {
  compute: string;
  processes?: string;
  nodeName?: string;
  python?: string;
}

/** `minibatch agent --compute <name>`: serve a Redis compute's runs until stopped. */
export async function agentCommand(options: AgentCommandOptions): Promise<number> {
  const config = loadComputeConfig();
  const name = options.compute.replace(/^azureml:/, '');
  const compute = config.computes.get(name);
  if (!compute || compute.kind !== 'redis') {
    const known = [...config.computes.values()].filter((one) => one.kind === 'redis').map((one) => one.name);
    const where = config.file ?? 'no minibatch.config.yml was found (current folder, home, or MINIBATCH_CONFIG)';
    throw new InvalidInputError('E_CONFIG_INVALID', `--compute ${options.compute}: expected the name of a type: redis compute in ${where}${known.length > 0 ? `; known: ${known.join(', ')}` : ''}`);
  }
  let processes: number | undefined;
  if (options.processes !== undefined) {
    processes = Number(options.processes);
    if (!Number.isInteger(processes) || processes < 1) throw new InvalidInputError('E_USAGE', `--processes: expected a whole number >= 1, got "${options.processes}"`);
  }
  const nodeName = options.nodeName ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(nodeName)) throw new InvalidInputError('E_USAGE', `--node-name: expected letters, digits, "_", "." and "-", got "${nodeName}"`);
  const version = await checkRedisReachable(compute);
  const say = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  say(`Redis ${version} reached`);
  const agent = new Agent({ compute, name: nodeName, processes, python: options.python, say });
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(signal === 'SIGINT' ? EXIT.sigint : 143);
    say(`${signal}: leaving the run being served (its mini-batches go back to the queue) and stopping`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await agent.run(stop.signal);
  return EXIT.ok;
}
