import { formatClock } from '../../logs/format-duration.js';
import { RunDirectory } from '../../logs/run-directory.js';
import { applyPipelineOverrides, loadPipeline } from '../../pipeline/load-pipeline.js';
import { runPipeline } from '../../pipeline/run-pipeline.js';
import { YamlSource } from '../../spec/yaml-source.js';
import { EXIT, ignoreFirstSignalWhileExiting } from '../exit.js';

/** `minibatch run pipeline.yml` / `job create --file pipeline.yml`: run every step, say what each did. */
export async function runPipelineCommand(file: string, options: { set: string[]; compute?: string; python?: string; json?: boolean; forceRerun?: boolean }): Promise<number> {
  const cancel = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++interrupts > 1) process.exit(signal === 'SIGINT' ? EXIT.sigint : 143);
    process.stderr.write(`minibatch: ${signal}: stopping the pipeline: running steps stop, waiting ones are cancelled (again to quit at once)\n`);
    cancel.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const say = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const result = await runPipeline({
      file,
      sets: options.set,
      computeOverride: options.compute,
      python: options.python,
      forceRerun: options.forceRerun === true,
      signal: cancel.signal,
      onEvent: (event) => {
        switch (event.type) {
          case 'started':
            say(`pipeline ${event.runId}: ${event.order.length} step(s): ${event.order.join(', ')}; logs in ${event.runDir}`);
            break;
          case 'step': {
            const took = event.elapsedMs !== undefined ? ` in ${formatClock(event.elapsedMs)}` : '';
            if (event.reason?.startsWith('reused from run')) say(`step ${event.step}: ${event.reason}`);
            else say(`step ${event.step}: ${event.status}${took}${event.reason ? `: ${event.reason}` : ''}`);
            break;
          }
          case 'notice':
          case 'warning':
            say(`${event.type}: ${event.step ? `step ${event.step}: ` : ''}${event.message}`);
            break;
        }
      },
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ runId: result.runId, runDir: result.runDir, status: result.status, exitCode: result.exitCode, steps: result.steps }, null, 2)}\n`);
    } else {
      const counts = Object.values(result.steps).reduce<Record<string, number>>((all, step) => ({ ...all, [step.status]: (all[step.status] ?? 0) + 1 }), {});
      const stream = result.status === 'succeeded' ? process.stdout : process.stderr;
      stream.write(`Pipeline ${result.status}: ${Object.entries(counts).map(([status, count]) => `${count} ${status}`).join(', ')}\nDetails: ${result.runDir}/logs/pipeline_result.txt\n`);
    }
    return result.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    ignoreFirstSignalWhileExiting();
  }
}

/** `minibatch validate pipeline.yml`: the pipeline and every step checked, nothing run. */
export function validatePipelineCommand(file: string, sets: string[]): number {
  const source = YamlSource.read(file);
  applyPipelineOverrides(source, sets);
  const pipeline = loadPipeline(source, file, new RunDirectory('<run-dir>', '<run-id>'), '<home>');
  const edges = [...pipeline.steps.values()].flatMap((step) => step.dependsOn.map((from) => `${from} → ${step.name}`));
  process.stdout.write(`${file}: valid pipeline: ${pipeline.steps.size} step(s) in order ${pipeline.order.join(', ')}${edges.length > 0 ? `; edges: ${edges.join(', ')}` : ''}\n`);
  return EXIT.ok;
}
