import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { formatClock } from '../logs/format-duration.js';
import { RunDirectory, minibatchHome } from '../logs/run-directory.js';
import { runParallelJob } from '../run/run-parallel-job.js';
import { markDriver, unmarkDriver } from '../store/run-catalog.js';
import { YamlSource } from '../spec/yaml-source.js';
import { runCommandStep } from './command-step.js';
import { ReuseIndex, fingerprintStep, linkReusedOutputs, type StepFingerprint } from './step-reuse.js';
import { applyPipelineOverrides, loadPipeline, type LoadedPipeline, type PipelineStep } from './load-pipeline.js';

export type StepStatus = 'waiting' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface StepState {
  type: 'parallel' | 'command';
  status: StepStatus;
  dependsOn: string[];
  runDir: string;
  outputs: Record<string, string>;
  startedAt?: string | undefined;
  endedAt?: string | undefined;
  reason?: string | undefined;
  /** The pipeline run whose outputs this step reused, when it was not run. */
  reusedFrom?: string | undefined;
}

/** `state/pipeline.json`: the pipeline's state, rewritten atomically at every step transition. */
export interface PipelineState {
  kind: 'pipeline';
  runId: string;
  name: string | undefined;
  displayName: string | undefined;
  pipelineFile: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  startedAt: string;
  endedAt?: string | undefined;
  steps: Record<string, StepState>;
}

export type PipelineEvent =
  | { type: 'started'; runId: string; runDir: string; order: string[] }
  | { type: 'step'; step: string; status: StepStatus; reason?: string | undefined; elapsedMs?: number }
  | { type: 'notice'; step?: string; message: string }
  | { type: 'warning'; step?: string; message: string };

export interface RunPipelineOptions {
  file: string;
  sets?: readonly string[];
  home?: string | undefined;
  computeOverride?: string | undefined;
  python?: string | undefined;
  /** `--force-rerun`: run every step, reuse nothing. */
  forceRerun?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
}

export interface RunPipelineResult {
  runId: string;
  runDir: string;
  status: PipelineState['status'];
  exitCode: number;
  steps: Record<string, StepState>;
}

/**
 * Runs a `type: pipeline` file: every step as soon as the steps it reads from have succeeded,
 * independent steps at the same time. A failed step fails its dependants (they are skipped),
 * not its siblings; the pipeline fails if any step did. Invalid input throws before anything
 * is written.
 */
export async function runPipeline(options: RunPipelineOptions): Promise<RunPipelineResult> {
  const emit = options.onEvent ?? (() => {});
  const home = options.home ?? minibatchHome();
  const source = YamlSource.read(options.file);
  applyPipelineOverrides(source, options.sets ?? []);
  const name = (source.toJS() as { name?: unknown }).name;
  const directory = RunDirectory.allocate(home, typeof name === 'string' ? name : 'pipeline');
  const pipeline = loadPipeline(source, options.file, directory, home);

  directory.create();
  copyFileSync(options.file, join(directory.root, 'pipeline.yml'));
  const state: PipelineState = {
    kind: 'pipeline',
    runId: directory.runId,
    name: pipeline.options.name,
    displayName: pipeline.options.display_name,
    pipelineFile: pipeline.file,
    status: 'running',
    startedAt: new Date().toISOString(),
    steps: Object.fromEntries(
      pipeline.order.map((stepName) => {
        const step = pipeline.steps.get(stepName) as PipelineStep;
        return [stepName, { type: step.type, status: 'waiting', dependsOn: step.dependsOn, runDir: step.directory.root, outputs: Object.fromEntries(Object.entries(step.outputs).map(([key, output]) => [key, output.path])) }];
      }),
    ),
  };
  const save = () => writeAtomically(join(directory.state, 'pipeline.json'), `${JSON.stringify(state, null, 2)}\n`);
  save();
  markDriver(directory.state);
  emit({ type: 'started', runId: directory.runId, runDir: directory.root, order: pipeline.order });

  const reuse = new ReuseIndex(home);
  const forceRerun = pipeline.forceRerun || options.forceRerun === true;
  const finished = new Map<string, Promise<StepStatus>>();
  const runStep = async (step: PipelineStep): Promise<StepStatus> => {
    const upstream = await Promise.all(step.dependsOn.map((dependency) => finished.get(dependency) ?? Promise.resolve<StepStatus>('failed')));
    const stepState = state.steps[step.name] as StepState;
    const blocked = step.dependsOn.filter((_, index) => upstream[index] !== 'succeeded');
    if (blocked.length > 0 || options.signal?.aborted) {
      stepState.status = options.signal?.aborted ? 'cancelled' : 'skipped';
      stepState.reason = options.signal?.aborted ? 'the pipeline was cancelled' : `upstream step ${blocked.join(', ')} did not succeed`;
      save();
      emit({ type: 'step', step: step.name, status: stepState.status, reason: stepState.reason });
      return stepState.status;
    }
    stepState.startedAt = new Date().toISOString();
    const started = performance.now();
    // Reuse: a deterministic step whose code, settings and input contents are unchanged is not run again.
    let fingerprint: StepFingerprint | undefined;
    if (step.isDeterministic) {
      fingerprint = await fingerprintStep(step, dirname(pipeline.file), directory.root);
      if (forceRerun) {
        emit({ type: 'notice', step: step.name, message: 'not reused: --force-rerun / settings.force_rerun' });
      } else {
        const decision = reuse.decide(step, pipeline.file, fingerprint);
        if (decision.reused) {
          linkReusedOutputs(step, decision.from);
          stepState.status = 'succeeded';
          stepState.reusedFrom = decision.from.pipelineRunId;
          stepState.reason = `reused from run ${decision.from.pipelineRunId} (${decision.from.stepRunDir})`;
          stepState.endedAt = new Date().toISOString();
          save();
          emit({ type: 'step', step: step.name, status: 'succeeded', reason: stepState.reason, elapsedMs: performance.now() - started });
          return 'succeeded';
        }
        emit({ type: 'notice', step: step.name, message: `not reused: ${decision.why}` });
      }
    }
    stepState.status = 'running';
    save();
    emit({ type: 'step', step: step.name, status: 'running' });
    let outcome: { status: StepStatus; reason?: string | undefined };
    try {
      outcome = await executeStep(step, pipeline, options, emit);
    } catch (error) {
      // A step whose input or script is invalid fails that step (and its dependants), with the message.
      outcome = { status: 'failed', reason: error instanceof InvalidInputError ? error.message : `internal error: ${(error as Error).stack ?? String(error)}` };
    }
    stepState.status = outcome.status;
    stepState.reason = outcome.reason;
    if (outcome.status === 'succeeded' && fingerprint) reuse.record(step, pipeline.file, directory.runId, fingerprint);
    stepState.endedAt = new Date().toISOString();
    save();
    emit({ type: 'step', step: step.name, status: outcome.status, reason: outcome.reason, elapsedMs: performance.now() - started });
    return outcome.status;
  };
  // Promises are registered in dependency order, so every step finds its upstream ones.
  for (const stepName of pipeline.order) finished.set(stepName, runStep(pipeline.steps.get(stepName) as PipelineStep));
  const statuses = await Promise.all(finished.values());

  state.status = options.signal?.aborted ? 'cancelled' : statuses.every((status) => status === 'succeeded') ? 'succeeded' : 'failed';
  state.endedAt = new Date().toISOString();
  save();
  writeFileSync(join(directory.logs, 'pipeline_result.txt'), formatPipelineResult(state));
  unmarkDriver(directory.state);
  const exitCode = state.status === 'succeeded' ? 0 : state.status === 'cancelled' ? 130 : 1;
  return { runId: directory.runId, runDir: directory.root, status: state.status, exitCode, steps: state.steps };
}

async function executeStep(step: PipelineStep, pipeline: LoadedPipeline, options: RunPipelineOptions, emit: (event: PipelineEvent) => void): Promise<{ status: StepStatus; reason?: string | undefined }> {
  if (step.type === 'command') {
    const result = await runCommandStep(step, dirname(pipeline.file), options.signal ?? new AbortController().signal);
    return { status: options.signal?.aborted ? 'cancelled' : result.status, reason: result.reason };
  }
  const result = await runParallelJob({
    jobFile: pipeline.file,
    step: { source: step.source, directory: step.directory },
    computeOverride: options.computeOverride,
    python: options.python,
    signal: options.signal,
    onEvent: (event) => {
      if (event.type === 'notice' || event.type === 'warning') emit({ type: event.type, step: step.name, message: event.message });
      else if (event.type === 'log' && event.level === 'WARNING') emit({ type: 'warning', step: step.name, message: event.message });
    },
  });
  const counts = `${result.result.succeededBatches}/${result.result.totalBatches} mini-batches, ${result.result.failedItems} failed item(s)`;
  return { status: result.status, reason: result.status === 'succeeded' ? counts : `${result.result.reason ?? 'failed'} (${counts}; see ${result.jobResultPath})` };
}

function formatPipelineResult(state: PipelineState): string {
  const lines = [`Status: ${state.status}`, `Run: ${state.runId}${state.name ? ` (${state.name})` : ''}`, `Pipeline: ${state.pipelineFile}`, `Started: ${state.startedAt}  Ended: ${state.endedAt ?? '-'}`, '', 'Steps:'];
  for (const [name, step] of Object.entries(state.steps)) {
    const took = step.startedAt && step.endedAt ? ` in ${formatClock(Date.parse(step.endedAt) - Date.parse(step.startedAt))}` : '';
    lines.push(`  ${name} (${step.type}${step.dependsOn.length > 0 ? `, after ${step.dependsOn.join(', ')}` : ''}): ${step.status}${took}${step.reason ? ` — ${step.reason.split('\n')[0]}` : ''}`);
    lines.push(`    run directory: ${step.runDir}`);
  }
  return `${lines.join('\n')}\n`;
}

function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
