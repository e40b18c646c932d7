import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindExpressions, parseReference, soleExpression, type BindingScope } from './bindings.js';

const scope: BindingScope = {
  inputs: { input_data: '/data/in', score_model: '/models/m1', 'learning-rate': '0.1' },
  outputs: { job_output_file: '/runs/r1/outputs/job_output_file', scores: '/out/scores' },
};

describe('bindExpressions', () => {
  it('replaces input and output bindings by their paths', () => {
    assert.deepEqual(bindExpressions('${{inputs.score_model}}', scope), { value: '/models/m1' });
    assert.deepEqual(bindExpressions('${{outputs.scores}}', scope), { value: '/out/scores' });
  });

  it('replaces every binding inside a longer text and keeps the rest', () => {
    assert.deepEqual(bindExpressions('--model ${{inputs.score_model}} --out ${{outputs.scores}}/part --lr=${{inputs.learning-rate}}', scope), {
      value: '--model /models/m1 --out /out/scores/part --lr=0.1',
    });
  });

  it('accepts whitespace inside the braces', () => {
    assert.deepEqual(bindExpressions('${{ inputs.score_model }}', scope), { value: '/models/m1' });
    assert.deepEqual(bindExpressions('${{   outputs.scores}}', scope), { value: '/out/scores' });
    assert.deepEqual(bindExpressions('x=${{inputs.input_data   }}', scope), { value: 'x=/data/in' });
  });

  it('leaves text without bindings unchanged', () => {
    assert.deepEqual(bindExpressions('--plain value $HOME {{x}} ${x}', scope), { value: '--plain value $HOME {{x}} ${x}' });
    assert.deepEqual(bindExpressions('', scope), { value: '' });
  });

  it('suggests the name meant for an unknown input or output', () => {
    assert.deepEqual(bindExpressions('--m ${{inputs.score_modle}}', scope), {
      error: '${{inputs.score_modle}} names no declared input; did you mean ${{inputs.score_model}}?',
    });
    assert.deepEqual(bindExpressions('${{outputs.score}}', scope), {
      error: '${{outputs.score}} names no declared output; did you mean ${{outputs.scores}}?',
    });
  });

  it('lists the declared names when nothing is close', () => {
    assert.deepEqual(bindExpressions('${{outputs.zzzzzzzz}}', scope), {
      error: "${{outputs.zzzzzzzz}} names no declared output; this job's outputs: job_output_file, scores",
    });
    assert.deepEqual(bindExpressions('${{inputs.x}}', { inputs: {}, outputs: {} }), {
      error: '${{inputs.x}} names no declared input; this job declares no inputs',
    });
  });

  it('does not take an output for an input of the same name', () => {
    assert.deepEqual(bindExpressions('${{inputs.scores}}', scope), {
      error: "${{inputs.scores}} names no declared input; this job's inputs: input_data, score_model, learning-rate",
    });
  });

  it('rejects expressions that are not inputs.x or outputs.x', () => {
    const expected = 'is not a binding this job understands; expected ${{inputs.<name>}} or ${{outputs.<name>}}';
    assert.deepEqual(bindExpressions('${{parent.inputs.x}}', scope), { error: `\${{parent.inputs.x}} ${expected}` });
    assert.deepEqual(bindExpressions('${{ name }}', scope), { error: `\${{name}} ${expected}` });
    assert.deepEqual(bindExpressions('${{inputs}}', scope), { error: `\${{inputs}} ${expected}` });
  });

  it('reports the first bad binding of several', () => {
    assert.deepEqual(bindExpressions('${{inputs.input_data}} ${{inputs.nope_one}} ${{inputs.nope_two}}', scope), {
      error: "${{inputs.nope_one}} names no declared input; this job's inputs: input_data, score_model, learning-rate",
    });
  });
});

describe('parseReference', () => {
  it('returns the group and the name', () => {
    assert.deepEqual(parseReference('inputs.input_data', scope), { group: 'inputs', name: 'input_data' });
    assert.deepEqual(parseReference('outputs.job_output_file', scope), { group: 'outputs', name: 'job_output_file' });
  });
});

describe('soleExpression', () => {
  it('returns the inner text when the text is exactly one expression', () => {
    assert.equal(soleExpression('${{inputs.input_data}}'), 'inputs.input_data');
    assert.equal(soleExpression('  ${{  outputs.scores  }}  '), 'outputs.scores');
  });

  it('returns undefined for anything else', () => {
    assert.equal(soleExpression('./data'), undefined);
    assert.equal(soleExpression('x ${{inputs.input_data}}'), undefined);
    assert.equal(soleExpression('${{inputs.input_data}}/sub'), undefined);
    assert.equal(soleExpression('${{inputs.a}}${{inputs.b}}'), undefined);
    assert.equal(soleExpression(''), undefined);
  });
});
