import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isMap, isScalar, type YAMLMap } from 'yaml';
import { InvalidInputError } from '../errors.js';
import { RunDirectory } from '../logs/run-directory.js';
import { validateParallelJob } from '../spec/resolve-job.js';
import { formatIssues, dottedPath } from '../spec/schema-errors.js';
import { soleExpression } from '../spec/bindings.js';
import { closestName } from '../spec/suggest.js';
import { applyOverrides } from '../spec/overrides.js';
import { YamlSource, type FieldPath } from '../spec/yaml-source.js';
import { KNOWN_PIPELINE_FIELDS, commandStepSchema, pipelineSchema, type CommandStepOptions, type PipelineOptions } from './pipeline-schema.js';

export type StepType = 'parallel' | 'command';

export interface StepOutput {
  type: string;
  path: string;
}

/** A step with every `${{parent.…}}` bound: ready to run once the steps it depends on have. */
export interface PipelineStep {
  name: string;
  type: StepType;
  /** Steps whose outputs this step reads (the graph's edges). */
  dependsOn: string[];
  /** The step as a document of its own (positions in the pipeline file); a parallel step runs it as a job. */
  source: YamlSource;
  /** Command steps, validated. */
  command: CommandStepOptions | undefined;
  outputs: Record<string, StepOutput>;
  /** `<pipeline run>/steps/<name>`. */
  directory: RunDirectory;
  isDeterministic: boolean;
}

export interface LoadedPipeline {
  file: string;
  options: PipelineOptions;
  source: YamlSource;
  directory: RunDirectory;
  steps: Map<string, PipelineStep>;
  /** Steps in an order where every step comes after those it depends on. */
  order: string[];
  outputs: Record<string, StepOutput>;
  forceRerun: boolean;
}

/**
 * `--set` on a pipeline: `jobs.<step>.…` must name a step that exists (a typo would otherwise
 * create a half-defined step and fail with a confusing message about it).
 */
export function applyPipelineOverrides(source: YamlSource, sets: readonly string[]): void {
  const jobs = source.document.get('jobs');
  const steps = isMap(jobs) ? (jobs as YAMLMap).items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key)) : [];
  for (const assignment of sets) {
    const match = /^jobs\.([^.=]+)\.[^=]/.exec(assignment);
    if (match && !steps.includes(match[1] ?? '')) {
      throw new InvalidInputError('E_USAGE', unknownName(`--set ${assignment}: the pipeline has no step "${match[1]}"`, match[1] ?? '', steps, 'steps'));
    }
  }
  applyOverrides(source, sets);
}

/** `azureml://datastores/<name>/paths/<p>` is a folder of the minibatch home here: `<home>/datastores/<name>/<p>`. */
export function mapDatastorePath(path: string, home: string): string {
  const match = /^azureml:\/\/datastores\/([^/]+)\/paths\/(.*)$/.exec(path);
  return match ? join(home, 'datastores', match[1] ?? 'default', match[2] ?? '') : path;
}

/**
 * Reads, validates and binds a pipeline file. Everything that can be checked before a step
 * runs is checked here, all at once, with file:line:col: the schema of the pipeline and of each
 * step, every binding (a typo gets the closest name), outputs bound twice, cycles. Paths that
 * an upstream step creates are checked when the step that reads them starts.
 */
export function loadPipeline(source: YamlSource, file: string, directory: RunDirectory, home: string): LoadedPipeline {
  const data = source.toJS();
  const parsed = pipelineSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const knownFields = (path: FieldPath) => (path.length === 0 ? (KNOWN_PIPELINE_FIELDS[''] ?? []) : path[0] === 'settings' ? (KNOWN_PIPELINE_FIELDS.settings ?? []) : []);
    throw invalid(source, formatIssues(parsed.error.issues, source, knownFields));
  }
  const options = parsed.data;
  const problems: string[] = [];
  const problem = (path: FieldPath, message: string) => problems.push(`${source.locate(path)}: ${dottedPath(path)}: ${message}`);
  const pipelineDir = dirname(resolve(file));
  const absolute = (path: string) => {
    const mapped = mapDatastorePath(path, home);
    return isAbsolute(mapped) ? mapped : resolve(pipelineDir, mapped);
  };
  const stepNames = Object.keys(options.jobs);
  if (stepNames.length === 0) problem(['jobs'], 'expected at least one step');

  // Pipeline inputs and outputs, resolved.
  const parentInputs: Record<string, unknown> = {};
  for (const [name, input] of Object.entries(options.inputs ?? {})) {
    parentInputs[name] = typeof input === 'object' ? { ...input, path: absolute(input.path) } : input;
  }
  const outputs: Record<string, StepOutput> = {};
  for (const [name, output] of Object.entries(options.outputs ?? {})) {
    const path = output.path !== undefined ? absolute(expandOutputMacros(output.path, directory.runId, name)) : join(directory.root, 'outputs', name);
    outputs[name] = { type: output.type ?? 'uri_folder', path };
  }

  // Components are merged into their steps first: the step's own fields win.
  for (const name of stepNames) mergeComponent(source, name, pipelineDir, problem);

  // Pass 1: every step's outputs get a path, so that any step can bind to any other.
  const steps = new Map<string, PipelineStep>();
  const boundParentOutputs = new Map<string, string>();
  for (const name of stepNames) {
    const stepSource = source.subtree(['jobs', name]);
    const step = stepSource.toJS() as Record<string, unknown>;
    const type = (step.type ?? 'parallel') as StepType;
    const stepDirectory = new RunDirectory(join(directory.root, 'steps', name), `${directory.runId}.${name}`);
    const stepOutputs: Record<string, StepOutput> = {};
    for (const [outputName, output] of Object.entries((step.outputs ?? {}) as Record<string, unknown>)) {
      const at: FieldPath = ['jobs', name, 'outputs', outputName];
      let resolved: StepOutput;
      if (typeof output === 'string') {
        const expression = soleExpression(output);
        const match = expression ? /^parent\.outputs\.([A-Za-z_][\w-]*)$/.exec(expression) : null;
        if (!match) {
          problem(at, `expected \${{parent.outputs.<name>}} or an output mapping, got ${JSON.stringify(output)}`);
          continue;
        }
        const parentName = match[1] ?? '';
        const parentOutput = outputs[parentName];
        if (!parentOutput) {
          problem(at, unknownName(`\${{parent.outputs.${parentName}}} names no pipeline output`, parentName, Object.keys(outputs), 'pipeline outputs'));
          continue;
        }
        const earlier = boundParentOutputs.get(parentName);
        if (earlier) {
          problem(at, `the pipeline output ${parentName} is bound twice: by ${earlier} and by jobs.${name}.outputs.${outputName}; expected one step output per pipeline output`);
          continue;
        }
        boundParentOutputs.set(parentName, `jobs.${name}.outputs.${outputName}`);
        resolved = parentOutput;
      } else if (output && typeof output === 'object') {
        const declared = output as { type?: string; path?: string };
        resolved = {
          type: declared.type ?? 'uri_folder',
          path: declared.path !== undefined ? absolute(expandOutputMacros(declared.path, stepDirectory.runId, outputName)) : join(stepDirectory.root, 'outputs', outputName),
        };
      } else {
        problem(at, 'expected an output (type, path) or ${{parent.outputs.<name>}}');
        continue;
      }
      stepOutputs[outputName] = resolved;
      stepSource.document.setIn(['outputs', outputName], { type: resolved.type, path: resolved.path });
    }
    steps.set(name, { name, type, dependsOn: [], source: stepSource, command: undefined, outputs: stepOutputs, directory: stepDirectory, isDeterministic: step.is_deterministic !== false });
  }

  // Pass 2: inputs bound to pipeline inputs and to other steps' outputs (the edges).
  for (const step of steps.values()) {
    const inputs = ((step.source.toJS() as Record<string, unknown>).inputs ?? {}) as Record<string, unknown>;
    for (const [inputName, value] of Object.entries(inputs)) {
      if (typeof value !== 'string') {
        if (value && typeof value === 'object' && typeof (value as { path?: unknown }).path === 'string') {
          step.source.document.setIn(['inputs', inputName, 'path'], absolute((value as { path: string }).path));
        }
        continue;
      }
      const expression = soleExpression(value);
      if (!expression?.startsWith('parent.')) continue;
      const at: FieldPath = ['jobs', step.name, 'inputs', inputName];
      const parentInput = /^parent\.inputs\.([A-Za-z_][\w-]*)$/.exec(expression);
      const upstream = /^parent\.jobs\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)$/.exec(expression);
      if (parentInput) {
        const inputKey = parentInput[1] ?? '';
        if (!(inputKey in parentInputs)) {
          problem(at, unknownName(`\${{parent.inputs.${inputKey}}} names no pipeline input`, inputKey, Object.keys(parentInputs), 'pipeline inputs'));
          continue;
        }
        step.source.document.setIn(['inputs', inputName], parentInputs[inputKey]);
      } else if (upstream) {
        const [, from = '', outputName = ''] = upstream;
        const producer = steps.get(from);
        if (!producer) {
          problem(at, unknownName(`\${{parent.jobs.${from}.outputs.${outputName}}} names no step "${from}"`, from, [...steps.keys()].filter((other) => other !== step.name), 'steps'));
          continue;
        }
        const output = producer.outputs[outputName];
        if (!output) {
          problem(at, unknownName(`\${{parent.jobs.${from}.outputs.${outputName}}}: step ${from} has no output "${outputName}"`, outputName, Object.keys(producer.outputs), `outputs of ${from}`));
          continue;
        }
        if (from === step.name) {
          problem(at, `step ${step.name} reads its own output ${outputName}; a step cannot depend on itself`);
          continue;
        }
        if (!step.dependsOn.includes(from)) step.dependsOn.push(from);
        step.source.document.setIn(['inputs', inputName], { type: output.type === 'uri_file' ? 'uri_file' : output.type, path: output.path });
      } else {
        problem(at, `\${{${expression}}} is not a pipeline binding; expected \${{parent.inputs.<name>}} or \${{parent.jobs.<step>.outputs.<name>}}`);
      }
    }
    // settings.default_compute is the compute of every step that names none.
    if (options.settings?.default_compute && !(step.source.toJS() as Record<string, unknown>).compute) step.source.document.set('compute', options.settings.default_compute);
  }

  // Each step against its own schema (positions still in the pipeline file).
  for (const step of steps.values()) {
    try {
      if (step.type === 'parallel') {
        step.source.document.delete('type');
        step.source.document.set('type', 'parallel');
        validateParallelJob(step.source);
      } else {
        const result = commandStepSchema.safeParse(step.source.toJS(), { reportInput: true });
        if (!result.success) {
          const known = () => KNOWN_PIPELINE_FIELDS.command ?? [];
          problems.push(...formatIssues(result.error.issues, step.source, known).map((line) => prefixPath(line, step.name)));
        } else step.command = result.data;
      }
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problems.push(...error.message.split('\n').filter((line) => !/^\S.*: \d+ problems:$/.test(line)).map((line) => prefixPath(line.trim(), step.name)));
    }
  }

  const order = problems.length === 0 ? topologicalOrder(steps, source) : [];
  if (problems.length > 0) throw invalid(source, problems);
  return { file: resolve(file), options, source, directory, steps, order, outputs, forceRerun: options.settings?.force_rerun === true };
}

/** `job.yml:3:5: retry_settings.timeout: …` from a step's own validation → `… jobs.<step>.retry_settings.timeout: …`. */
function prefixPath(line: string, step: string): string {
  return line.replace(/^(--set \S+|\S+): ([^\s:]+): /, (_whole, where: string, path: string) => `${where}: jobs.${step}.${path}: `);
}

function unknownName(message: string, name: string, known: string[], what: string): string {
  const near = closestName(name, known);
  return near ? `${message}; did you mean "${near}"?` : known.length > 0 ? `${message}; the ${what}: ${known.join(', ')}` : `${message}; there are no ${what}`;
}

/** `${{name}}` (the run of the step or pipeline) and `${{output_name}}` in an output path. */
function expandOutputMacros(path: string, runId: string, outputName: string): string {
  return path.replace(/\$\{\{\s*name\s*\}\}/g, runId).replace(/\$\{\{\s*output_name\s*\}\}/g, outputName);
}

/** A component file's step definition under the step: the step's own fields win. */
function mergeComponent(source: YamlSource, step: string, pipelineDir: string, problem: (path: FieldPath, message: string) => void): void {
  const node = source.document.getIn(['jobs', step], true);
  if (!isMap(node)) return;
  const reference = (node as YAMLMap).get('component');
  if (typeof reference !== 'string') return;
  const path = resolve(pipelineDir, reference);
  if (!existsSync(path)) {
    problem(['jobs', step, 'component'], `component file ${path} does not exist`);
    return;
  }
  const component = YamlSource.read(path).toJS();
  if (!component || typeof component !== 'object' || Array.isArray(component)) {
    problem(['jobs', step, 'component'], `${path}: expected a step definition (a mapping with type: command or parallel)`);
    return;
  }
  const stepMap = node as YAMLMap;
  stepMap.delete('component');
  const declaredInputs = ((component as Record<string, unknown>).inputs ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(component as Record<string, unknown>)) {
    if (key === '$schema' || key === 'version' || key === 'inputs') continue;
    if (!stepMap.has(key)) stepMap.set(key, source.document.createNode(value));
  }
  // Component inputs are declarations: bound by the step, else their default, else optional, else an error.
  const given = stepMap.get('inputs');
  for (const [key, declaration] of Object.entries(declaredInputs)) {
    if (isMap(given) && (given as YAMLMap).has(key)) continue;
    const declared = (declaration ?? {}) as { default?: unknown; optional?: boolean; path?: string };
    if (declared.default !== undefined || declared.path !== undefined) {
      const value = declared.path !== undefined ? { ...declared, path: resolve(dirname(path), declared.path) } : declared.default;
      source.document.setIn(['jobs', step, 'inputs', key], value);
    } else if (!declared.optional) {
      problem(['jobs', step, 'inputs'], `input ${key} of component ${reference} is not bound and has no default`);
    }
  }
  for (const pair of isMap(given) ? (given as YAMLMap).items : []) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (Object.keys(declaredInputs).length > 0 && !(key in declaredInputs)) {
      problem(['jobs', step, 'inputs', key], unknownName(`component ${reference} declares no input "${key}"`, key, Object.keys(declaredInputs), 'component inputs'));
    }
  }
}

/** Kahn's order; a cycle is an error naming the steps on it and how they bind. */
function topologicalOrder(steps: Map<string, PipelineStep>, source: YamlSource): string[] {
  const remaining = new Map([...steps.values()].map((step) => [step.name, step.dependsOn.length]));
  const order: string[] = [];
  const ready = [...remaining].filter(([, count]) => count === 0).map(([name]) => name);
  while (ready.length > 0) {
    const name = ready.shift() ?? '';
    order.push(name);
    for (const step of steps.values()) {
      if (!step.dependsOn.includes(name)) continue;
      const left = (remaining.get(step.name) ?? 0) - 1;
      remaining.set(step.name, left);
      if (left === 0) ready.push(step.name);
    }
  }
  if (order.length === steps.size) return order;
  const cycle = findCycle(steps);
  const first = cycle[0] ?? '';
  throw new InvalidInputError('E_JOB_INVALID', `${source.locate(['jobs', first])}: jobs: the steps form a cycle: ${cycle.join(' → ')} → ${first} (each step feeds the next through \${{parent.jobs.<step>.outputs.<name>}}); expected a graph without cycles`);
}

function findCycle(steps: Map<string, PipelineStep>): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of steps.get(name)?.dependsOn ?? []) {
      if (state.get(next) === 'visiting') return stack.slice(stack.indexOf(next)).reverse();
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of steps.keys()) {
    if (state.has(name)) continue;
    const found = visit(name);
    if (found) return found;
  }
  return [];
}

function invalid(source: YamlSource, problems: string[]): InvalidInputError {
  return new InvalidInputError('E_JOB_INVALID', problems.length === 1 ? (problems[0] ?? '') : `${source.file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`);
}
