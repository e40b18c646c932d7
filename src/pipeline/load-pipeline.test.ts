import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RunDirectory } from '../logs/run-directory.js';
import { YamlSource } from '../spec/yaml-source.js';
import { applyPipelineOverrides, loadPipeline } from './load-pipeline.js';
import { tempDir } from '../../test/helpers.js';

/** Binding resolution, case by case: what each `${{…}}` in a pipeline becomes. */
function load(yaml: string, sets: string[] = []) {
  const dir = tempDir('mb-bind-');
  mkdirSync(join(dir, 'data'));
  const file = join(dir, 'pipeline.yml');
  writeFileSync(file, yaml);
  const source = YamlSource.read(file);
  applyPipelineOverrides(source, sets);
  const run = new RunDirectory(join(dir, 'home', 'runs', 'p-1'), 'p-1');
  return { dir, run, pipeline: loadPipeline(source, file, run, join(dir, 'home')) };
}

const STEP = (extra: string) => `  s:\n    type: command\n    command: "true"\n${extra}`;

describe('pipeline binding resolution', () => {
  const cases: [string, string, (result: ReturnType<typeof load>) => void][] = [
    ['a literal pipeline input', `inputs: {n: 5}\njobs:\n${STEP('    inputs: {count: "${{parent.inputs.n}}"}\n')}`, ({ pipeline }) => {
      assert.equal(pipeline.steps.get('s')?.command?.inputs?.count, 5);
    }],
    ['an asset pipeline input: its path made absolute from the pipeline file', `inputs: {raw: {type: uri_folder, path: ./data}}\njobs:\n${STEP('    inputs: {d: "${{parent.inputs.raw}}"}\n')}`, ({ pipeline, dir }) => {
      assert.deepEqual(pipeline.steps.get('s')?.command?.inputs?.d, { type: 'uri_folder', path: join(dir, 'data') });
    }],
    ['a step output without a path: under the step\'s run directory', `jobs:\n${STEP('    outputs: {o: {type: uri_folder}}\n')}`, ({ pipeline, run }) => {
      assert.deepEqual(pipeline.steps.get('s')?.outputs.o, { type: 'uri_folder', path: join(run.root, 'steps', 's', 'outputs', 'o') });
    }],
    ['a step output bound to a pipeline output', `outputs: {final: {type: uri_file, path: ./out/final.txt}}\njobs:\n${STEP('    outputs: {o: "${{parent.outputs.final}}"}\n')}`, ({ pipeline, dir }) => {
      assert.deepEqual(pipeline.steps.get('s')?.outputs.o, { type: 'uri_file', path: join(dir, 'out', 'final.txt') });
    }],
    ['a pipeline output without a path: under the pipeline\'s run directory', `outputs: {final: {type: uri_folder}}\njobs:\n${STEP('    outputs: {o: "${{parent.outputs.final}}"}\n')}`, ({ pipeline, run }) => {
      assert.equal(pipeline.steps.get('s')?.outputs.o?.path, join(run.root, 'outputs', 'final'));
    }],
    ['${{name}} and ${{output_name}} in an output path', `jobs:\n${STEP('    outputs: {model: {type: uri_folder, path: "./out/${{name}}/${{output_name}}"}}\n')}`, ({ pipeline, dir }) => {
      assert.equal(pipeline.steps.get('s')?.outputs.model?.path, join(dir, 'out', 'p-1.s', 'model'));
    }],
    ['an azureml:// datastore path', `jobs:\n${STEP('    outputs: {o: {type: uri_folder, path: "azureml://datastores/workspaceblobstore/paths/x/${{output_name}}"}}\n')}`, ({ pipeline, dir }) => {
      assert.equal(pipeline.steps.get('s')?.outputs.o?.path, join(dir, 'home', 'datastores', 'workspaceblobstore', 'x', 'o'));
    }],
    ['another step\'s output: an edge and the producer\'s path', `jobs:\n  a: {type: command, command: "true", outputs: {o: {type: uri_file}}}\n${STEP('    inputs: {x: "${{parent.jobs.a.outputs.o}}"}\n')}`, ({ pipeline, run }) => {
      assert.deepEqual(pipeline.steps.get('s')?.dependsOn, ['a']);
      assert.deepEqual(pipeline.steps.get('s')?.command?.inputs?.x, { type: 'uri_file', path: join(run.root, 'steps', 'a', 'outputs', 'o') });
      assert.deepEqual(pipeline.order, ['a', 's']);
    }],
    ['settings.default_compute for a step that names none', `settings: {default_compute: azureml:cpu}\njobs:\n${STEP('')}  t: {type: command, command: "true", compute: local}\n`, ({ pipeline }) => {
      assert.equal(pipeline.steps.get('s')?.command?.compute, 'azureml:cpu');
      assert.equal(pipeline.steps.get('t')?.command?.compute, 'local');
    }],
    ['--set on a step field', `jobs:\n${STEP('')}`, () => {
      const { pipeline } = load(`type: pipeline\njobs:\n${STEP('')}`, ['jobs.s.command=echo hi']);
      assert.equal(pipeline.steps.get('s')?.command?.command, 'echo hi');
    }],
  ];
  for (const [what, yaml, check] of cases) {
    it(what, () => check(load(`type: pipeline\n${yaml}`)));
  }

  it('--set on a step that does not exist names the closest one', () => {
    assert.throws(() => load(`type: pipeline\njobs:\n${STEP('')}`, ['jobs.t.command=x']), /--set jobs\.t\.command=x: the pipeline has no step "t"; did you mean "s"\?/);
  });
});
