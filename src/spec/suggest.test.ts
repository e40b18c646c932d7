import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestName, editDistance } from './suggest.js';

describe('editDistance', () => {
  it('is 0 for equal strings', () => {
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('task', 'task'), 0);
  });

  it('counts insertions and deletions against the empty string', () => {
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('abc', ''), 3);
  });

  it('counts one edit for one substitution, insertion or deletion', () => {
    assert.equal(editDistance('size', 'sise'), 1);
    assert.equal(editDistance('setings', 'settings'), 1);
    assert.equal(editDistance('settings', 'setings'), 1);
  });

  it('computes the classic examples', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('flaw', 'lawn'), 2);
    // a transposition of neighbours is one edit (optimal string alignment), as typos go
    assert.equal(editDistance('ab', 'ba'), 1);
    assert.equal(editDistance('paht', 'path'), 1);
  });

  it('is symmetric', () => {
    assert.equal(editDistance('resource_monitor_interva', 'resource_monitor_interval'), 1);
    assert.equal(editDistance('resource_monitor_interval', 'resource_monitor_interva'), 1);
    assert.equal(editDistance('intention', 'execution'), editDistance('execution', 'intention'));
  });
});

const JOB_FIELDS = [
  'type',
  'inputs',
  'outputs',
  'input_data',
  'mini_batch_size',
  'mini_batch_error_threshold',
  'error_threshold',
  'retry_settings',
  'resources',
  'resource_monitor_interval',
  'task',
  'logging_level',
];

describe('closestName', () => {
  it('suggests the field a typo was meant to be', () => {
    assert.equal(closestName('retry_setings', JOB_FIELDS), 'retry_settings');
    assert.equal(closestName('mini_batch_sise', JOB_FIELDS), 'mini_batch_size');
    assert.equal(closestName('resource_monitor_interva', JOB_FIELDS), 'resource_monitor_interval');
    assert.equal(closestName('logging_levle', JOB_FIELDS), 'logging_level');
  });

  it('ignores case when comparing, and returns the candidate as spelled', () => {
    assert.equal(closestName('TASK', JOB_FIELDS), 'task');
    assert.equal(closestName('RETRY_SETINGS', JOB_FIELDS), 'retry_settings');
    assert.equal(closestName('retry_setings', ['Retry_Settings', 'inputs']), 'Retry_Settings');
  });

  it('suggests a candidate the name is a prefix of (4 characters or more)', () => {
    assert.equal(closestName('retry', ['retry_settings']), 'retry_settings');
    assert.equal(closestName('resource_monitor', ['resource_monitor_interval']), 'resource_monitor_interval');
    // the other way round: the candidate is a prefix of the name
    assert.equal(closestName('task_overhead_timeout_seconds', ['task_overhead_timeout']), 'task_overhead_timeout');
    // too short to be a meaningful prefix
    assert.equal(closestName('ret', ['retry_settings']), undefined);
  });

  it('still suggests the prefixed candidate when an unrelated candidate is nearer in edits', () => {
    // 'inputs' is 6 edits from 'retry' (too many to be a typo), 'retry_settings' 9 but starts with it
    assert.equal(closestName('retry', ['retry_settings', 'inputs']), 'retry_settings');
    assert.equal(closestName('logging', JOB_FIELDS), 'logging_level');
  });

  it('suggests nothing for unrelated names', () => {
    assert.equal(closestName('banana', JOB_FIELDS), undefined);
    assert.equal(closestName('completely_unrelated_name', JOB_FIELDS), undefined);
    assert.equal(closestName('zz', JOB_FIELDS), undefined);
  });

  it('suggests nothing without candidates', () => {
    assert.equal(closestName('task', []), undefined);
  });

  it('allows at most a third of the name in edits (at least 1, at most 3)', () => {
    // 'trek' -> 'task' is 2 edits; a 4-letter name allows only 1
    assert.equal(closestName('trek', ['task']), undefined);
    assert.equal(closestName('tsak', ['task']), 'task');
    assert.equal(closestName('tusk', ['task']), 'task');
    // 9 letters allow 3 edits, 4 are too many
    assert.equal(closestName('abcdefxyz', ['abcdefghi']), 'abcdefghi');
    assert.equal(closestName('abcdewxyz', ['abcdefghi']), undefined);
  });
});
