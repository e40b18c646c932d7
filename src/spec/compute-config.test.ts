import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findConfigFile, loadComputeConfig, lookupCompute, redactUrl, type ComputeConfig } from './compute-config.js';
import { tempDir } from '../../test/helpers.js';

function configFile(text: string): string {
  const dir = tempDir('mb-config-');
  const file = join(dir, 'minibatch.config.yml');
  writeFileSync(file, text);
  return file;
}

const load = (text: string, env: Record<string, string> = {}) => loadComputeConfig({ MINIBATCH_CONFIG: configFile(text), ...env });

describe('minibatch.config.yml', () => {
  it('a redis compute gets every default, and TLS from rediss://', () => {
    const config = load('computes:\n  - name: cpu-cluster\n    type: redis\n    url: rediss://10.0.0.5:6380\n');
    const compute = config.computes.get('cpu-cluster');
    assert.ok(compute && compute.kind === 'redis');
    assert.equal(compute.prefix, 'mb');
    assert.equal(compute.tls, true);
    assert.equal(compute.lockDurationMs, 30_000);
    assert.equal(compute.stalledIntervalMs, 15_000);
    assert.equal(compute.heartbeatIntervalMs, 2_000);
    assert.equal(compute.heartbeatTimeoutMs, 10_000);
    assert.match(compute.definedIn, /minibatch\.config\.yml:2:5$/);
  });

  it('the password comes from the named environment variable, never from the file', () => {
    const config = load('computes:\n  - {name: c, type: redis, url: "redis://h:1", password_env: MY_REDIS_PW, lock_duration: 5}\n', { MY_REDIS_PW: 'pw' });
    const compute = config.computes.get('c');
    assert.ok(compute?.kind === 'redis');
    assert.equal(compute.password, 'pw');
    assert.equal(compute.lockDurationMs, 5_000);
  });

  it('an unset password variable, a duplicate name, a bad URL and an unknown field are each named with file:line', () => {
    assert.throws(() => load('computes:\n  - {name: c, type: redis, url: "redis://h:1", password_env: NOT_SET_ANYWHERE_42}\n'), /minibatch\.config\.yml:2:\d+: computes\[0\]\.password_env: the environment variable NOT_SET_ANYWHERE_42 is not set/);
    assert.throws(() => load('computes:\n  - {name: c, type: redis, url: "redis://h:1"}\n  - {name: c, type: local}\n'), /computes\[1\]\.name: "c" is defined twice/);
    assert.throws(() => load('computes:\n  - {name: c, type: redis, url: "h:6379"}\n'), /computes\[0\]\.url: expected a redis:\/\/ or rediss:\/\/ URL/);
    assert.throws(() => load('computes:\n  - {name: c, type: redis, url: "redis://h", prefx: x}\n'), /computes\[0\]\.prefx: unknown field \(did you mean "prefix"\?\)/);
    assert.throws(() => load('computes:\n  - {name: c, type: kubernetes}\n'), /computes\[0\]\.type: expected type: redis or type: local/);
  });

  it('MINIBATCH_CONFIG naming a missing file is an error; no file anywhere is no config', () => {
    assert.throws(() => findConfigFile({ MINIBATCH_CONFIG: '/nonexistent/minibatch.config.yml' }), /MINIBATCH_CONFIG names \/nonexistent\/minibatch\.config\.yml, which does not exist/);
    const empty = tempDir('mb-noconfig-');
    assert.equal(findConfigFile({ HOME: empty }, empty), undefined);
  });
});

describe('lookupCompute', () => {
  const config: ComputeConfig = { file: '/p/minibatch.config.yml', computes: new Map([['cpu-cluster', { kind: 'local', name: 'cpu-cluster' }]]) };
  it('local or nothing runs here without reading the config', () => {
    const never = () => assert.fail('the config was read');
    assert.equal(lookupCompute(undefined, never).target.kind, 'local');
    assert.equal(lookupCompute('local', never).target.kind, 'local');
  });
  it('azureml:<name> and <name> find the same compute', () => {
    assert.equal(lookupCompute('azureml:cpu-cluster', () => config).target.name, 'cpu-cluster');
    assert.equal(lookupCompute('cpu-cluster', () => config).target.name, 'cpu-cluster');
  });
  it('a name missing from an existing config is an error with the closest name', () => {
    assert.throws(() => lookupCompute('cpu-clustr', () => config), /compute "cpu-clustr" is not defined in \/p\/minibatch\.config\.yml \(did you mean "cpu-cluster"\?\); expected one of: local, cpu-cluster/);
  });
  it('with no config at all, a named compute runs locally with a notice (Azure job files run unchanged)', () => {
    const found = lookupCompute('azureml:gpu', () => ({ file: undefined, computes: new Map() }));
    assert.equal(found.target.kind, 'local');
    assert.match(found.notice ?? '', /compute "azureml:gpu" is not configured on this machine/);
  });
});

describe('redactUrl', () => {
  it('hides a password in the URL and keeps the rest', () => {
    assert.equal(redactUrl('redis://user:secret@host:6379/0'), 'redis://user:***@host:6379/0');
    assert.equal(redactUrl('rediss://:secret@host:6380'), 'rediss://:***@host:6380');
    assert.equal(redactUrl('redis://host:6379'), 'redis://host:6379');
  });
});
