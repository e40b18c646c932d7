import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TierUpPolicy, V8_INTERRUPT_BUDGET } from './tier-up.js';

describe('TierUpPolicy', () => {
  it('keeps the low budget for quick mini-batches: nothing to change after 16 runs', () => {
    const policy = new TierUpPolicy();
    for (let run = 0; run < 100; run++) assert.equal(policy.note(0.1), undefined);
  });

  it('gives V8 its default back once, at the 16th run, when run() takes over 2 ms on average', () => {
    const policy = new TierUpPolicy();
    const decisions = Array.from({ length: 40 }, (_, run) => policy.note(run === 0 ? 40 : 0.5));
    assert.deepEqual(decisions.map((budget, run) => [run, budget]).filter(([, budget]) => budget !== undefined), [[15, V8_INTERRUPT_BUDGET]]);
  });

  it('decides from the first 16 runs only: slow ones later change nothing', () => {
    const policy = new TierUpPolicy();
    for (let run = 0; run < 16; run++) policy.note(1);
    for (let run = 0; run < 50; run++) assert.equal(policy.note(100), undefined);
  });
});
