import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindCommand } from './command-step.js';
import { mapDatastorePath } from './load-pipeline.js';

describe('bindCommand', () => {
  const declared = new Set(['data', 'rate', 'extra']);
  const cases: [string, Record<string, string>, string][] = [
    ['python train.py --data ${{inputs.data}} --out ${{outputs.model}}', { data: '/d' }, 'python train.py --data /d --out /m'],
    ['x ${{ inputs.data }}', { data: '/d' }, 'x /d'],
    ['x $[[--rate ${{inputs.rate}}]] y', { rate: '0.1' }, 'x --rate 0.1 y'],
    ['x $[[--rate ${{inputs.rate}}]] y', {}, 'x  y'],
    ['x $[[--a ${{inputs.rate}} --b ${{inputs.extra}}]]', { rate: '1' }, 'x '],
    ['no bindings at all', {}, 'no bindings at all'],
  ];
  for (const [command, inputs, expected] of cases) {
    it(`${command} with ${JSON.stringify(inputs)}`, () => {
      assert.equal(bindCommand(command, inputs, { model: '/m' }, declared), expected);
    });
  }
  it('an optional input used outside $[[ ]] is an error that says so', () => {
    assert.throws(() => bindCommand('x ${{inputs.rate}}', {}, {}, declared), /\$\{\{inputs\.rate\}\} is an optional input that was not given; put it inside \$\[\[ … \]\]/);
  });
  it('an unknown name lists what exists', () => {
    assert.throws(() => bindCommand('x ${{outputs.modl}}', {}, { model: '/m' }, declared), /\$\{\{outputs\.modl\}\} names no output of this step; expected one of: model/);
  });
});

describe('mapDatastorePath', () => {
  it('azureml://datastores/<name>/paths/<p> is <home>/datastores/<name>/<p>; anything else is left alone', () => {
    assert.equal(mapDatastorePath('azureml://datastores/workspaceblobstore/paths/azureml/run-1/out/', '/h'), '/h/datastores/workspaceblobstore/azureml/run-1/out/');
    assert.equal(mapDatastorePath('./data', '/h'), './data');
  });
});
