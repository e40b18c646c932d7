import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO, readLines, runCli, tempDir } from '../helpers.js';

/** Pipelines end to end: the real CLI on real pipeline files. */
const MPIRUN = (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, 'mpirun')));
function pipelineDir(yaml: string, files: Record<string, string> = {}): { dir: string; file: string; home: string } {
  const dir = tempDir('mb-pipeline-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  writeFileSync(join(dir, 'pipeline.yml'), yaml);
  return { dir, file: join(dir, 'pipeline.yml'), home: join(dir, 'home') };
}

function pipelineState(home: string): { status: string; steps: Record<string, { status: string; reason?: string; startedAt?: string; endedAt?: string }> } {
  const runs = readdirSync(join(home, 'runs'));
  assert.equal(runs.length, 1);
  return JSON.parse(readFileSync(join(home, 'runs', runs[0] ?? '', 'state', 'pipeline.json'), 'utf8'));
}

describe('pipelines', () => {
  it('the example: prepare (command) → count (parallel) → summarize (command), outputs bound through the graph', async () => {
    const out = join(REPO, 'examples', 'pipeline-word-stats', 'out', 'summary.txt');
    const home = join(tempDir(), 'home');
    const result = await runCli(['job', 'create', '--file', join(REPO, 'examples', 'pipeline-word-stats', 'pipeline.yml')], { home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /step prepare: succeeded/);
    assert.match(result.stderr, /step count: succeeded in .*: 20\/20 mini-batches, 0 failed item\(s\)/);
    assert.match(result.stdout, /Pipeline succeeded: 3 succeeded/);
    assert.match(readFileSync(out, 'utf8'), /^documents: 200\nwords: \d+\nmost common top word: \w+ \(in \d+ documents\)\n$/);
    const state = pipelineState(home);
    assert.equal(state.status, 'succeeded');
    assert.deepEqual(Object.keys(state.steps), ['prepare', 'count', 'summarize']);
    const runDir = join(home, 'runs', readdirSync(join(home, 'runs'))[0] ?? '');
    // The parallel step is a full run directory inside the pipeline's.
    assert.ok(existsSync(join(runDir, 'steps', 'count', 'logs', 'job_result.txt')));
    const list = await runCli(['job', 'list', '--json'], { home });
    assert.deepEqual(JSON.parse(list.stdout).map((run: { kind: string; status: string; succeeded: number; total: number }) => [run.kind, run.status, run.succeeded, run.total]), [['pipeline', 'succeeded', 3, 3]]);
    assert.equal(readLines(join(runDir, 'steps', 'count', 'outputs', 'counts', 'parallel_run_step.txt')).length, 200);
    assert.match(readFileSync(join(runDir, 'steps', 'prepare', 'logs', 'user', 'std_log.txt'), 'utf8'), /prepared 200 documents/);
  });

  it('independent steps run at the same time; a step waits for all it reads from', async () => {
    // a and b only succeed if they run concurrently: each waits (≤ 20 s) for the other's flag.
    const wait = "import { existsSync, writeFileSync } from 'node:fs';\nconst [me, other, out] = process.argv.slice(2);\nwriteFileSync(me + '.flag', '');\nconst start = Date.now();\nwhile (!existsSync(other + '.flag')) { if (Date.now() - start > 20000) process.exit(9); await new Promise((r) => setTimeout(r, 20)); }\nwriteFileSync(out + '/done', String(Date.now()));\n";
    const job = pipelineDir(
      `type: pipeline
jobs:
  a: {type: command, command: "node wait.mjs a b \${{outputs.out}}", outputs: {out: {type: uri_folder}}}
  b: {type: command, command: "node wait.mjs b a \${{outputs.out}}", outputs: {out: {type: uri_folder}}}
  c:
    type: command
    command: cat \${{inputs.x}}/done \${{inputs.y}}/done > \${{outputs.out}}/both
    inputs: {x: "\${{parent.jobs.a.outputs.out}}", y: "\${{parent.jobs.b.outputs.out}}"}
    outputs: {out: {type: uri_folder}}
`,
      { 'wait.mjs': wait },
    );
    const result = await runCli(['run', job.file], { home: job.home, cwd: job.dir });
    assert.equal(result.code, 0, result.stderr);
    const state = pipelineState(job.home);
    const ended = Math.max(Date.parse(state.steps.a?.endedAt ?? ''), Date.parse(state.steps.b?.endedAt ?? ''));
    assert.ok(Date.parse(state.steps.c?.startedAt ?? '') >= ended, 'c started after a and b ended');
  });

  it('a failed step fails its dependants (skipped), not its siblings; the pipeline fails with the step and its stderr', async () => {
    const job = pipelineDir(`type: pipeline
jobs:
  broken: {type: command, command: "echo going; echo boom >&2; exit 3", outputs: {out: {type: uri_folder}}}
  after_broken: {type: command, command: "true", inputs: {x: "\${{parent.jobs.broken.outputs.out}}"}}
  sibling: {type: command, command: "echo fine"}
`);
    const result = await runCli(['run', job.file], { home: job.home });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /step broken: failed in .*: the command exited with code 3; last lines of its stderr:\n    boom/);
    assert.match(result.stderr, /step after_broken: skipped: upstream step broken did not succeed/);
    const state = pipelineState(job.home);
    assert.equal(state.status, 'failed');
    assert.equal(state.steps.sibling?.status, 'succeeded');
    assert.equal(state.steps.after_broken?.status, 'skipped');
    assert.match(readFileSync(join(job.home, 'runs', readdirSync(join(job.home, 'runs'))[0] ?? '', 'logs', 'pipeline_result.txt'), 'utf8'), /broken \(command\): failed/);
  });

  it('a distributed command step: 2 nodes x 2 processes, each rank with its environment; one failing rank fails the step with its error', async () => {
    const write = 'echo "$RANK $WORLD_SIZE $LOCAL_RANK $NODE_RANK $OMPI_COMM_WORLD_RANK $MASTER_ADDR" > ${{outputs.out}}/rank-$RANK';
    const job = pipelineDir(`type: pipeline
jobs:
  mpi:
    type: command
    command: '${write}'
    resources: {instance_count: 2}
    distribution: {type: mpi, process_count_per_instance: 2}
    outputs: {out: {type: uri_folder}}
  mpi_fails:
    type: command
    command: 'if [ "$RANK" = 1 ]; then echo "rank one broke" >&2; exit 5; fi; sleep 5'
    resources: {instance_count: 2}
    distribution: {type: mpi, process_count_per_instance: 2}
  torch_fails:
    type: command
    command: 'if [ "$RANK" = 2 ]; then echo "rank two broke" >&2; exit 4; fi; sleep 5'
    resources: {instance_count: 2}
    distribution: {type: pytorch, process_count_per_instance: 2}
`);
    const result = await runCli(['run', job.file, '--json'], { home: job.home });
    assert.equal(result.code, 1, result.stderr);
    const summary = JSON.parse(result.stdout);
    // Failed once in a full `npm test` (its outputs empty), not reproduced alone or under load: say why if it does again.
    assert.equal(summary.steps.mpi.status, 'succeeded', `the mpi step: ${summary.steps.mpi.reason}; its log: ${readFileSync(join(summary.steps.mpi.runDir, 'logs', 'user', 'std_log.txt'), 'utf8').slice(-2000)}`);
    const out = join(summary.steps.mpi.runDir, 'outputs', 'out');
    const lines = readdirSync(out).sort().map((name) => readFileSync(join(out, name), 'utf8').trim());
    assert.deepEqual(lines, ['0 4 0 0 0 127.0.0.1', '1 4 1 0 1 127.0.0.1', '2 4 0 1 2 127.0.0.1', '3 4 1 1 3 127.0.0.1']);
    // mpi steps go through Open MPI's mpirun when it is installed (CI installs openmpi-bin); pytorch ones through our launcher.
    const mpiLog = readFileSync(join(summary.steps.mpi.runDir, 'logs', 'user', 'std_log.txt'), 'utf8');
    assert.match(mpiLog, MPIRUN ? /started by mpirun/ : /started by the built-in launcher/);
    assert.match(summary.steps.mpi_fails.reason, /^rank 1 of 4 exited with code 5; last lines of its stderr:\n    rank one broke/);
    assert.equal(summary.steps.torch_fails.status, 'failed');
    assert.match(summary.steps.torch_fails.reason, /^rank 2 of 4 exited with code 4; last lines of its stderr:\n    rank two broke/);
  });

  it('a step may come from a component file; its inputs get the component defaults', async () => {
    const job = pipelineDir(
      `type: pipeline
jobs:
  greet:
    component: ./greet.yml
    inputs: {who: world}
`,
      { 'greet.yml': 'type: command\ncommand: echo "${{inputs.greeting}} ${{inputs.who}}" > ${{outputs.out}}/greeting.txt\ninputs:\n  who: {type: string}\n  greeting: {type: string, default: hello}\noutputs:\n  out: {type: uri_folder}\n' },
    );
    const result = await runCli(['run', job.file, '--json'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(readFileSync(join(summary.steps.greet.outputs.out, 'greeting.txt'), 'utf8'), 'hello world\n');
  });

  const invalid: [string, string, RegExp][] = [
    ['a cycle', 'type: pipeline\njobs:\n  a: {type: command, command: "true", inputs: {x: "${{parent.jobs.b.outputs.o}}"}, outputs: {o: {type: uri_folder}}}\n  b: {type: command, command: "true", inputs: {x: "${{parent.jobs.a.outputs.o}}"}, outputs: {o: {type: uri_folder}}}\n', /pipeline\.yml:[34]:3: jobs: the steps form a cycle: (a → b → a|b → a → b) \(each step feeds the next/],
    ['a binding to a missing step', 'type: pipeline\njobs:\n  prep: {type: command, command: "true", outputs: {o: {type: uri_folder}}}\n  use: {type: command, command: "true", inputs: {x: "${{parent.jobs.prepp.outputs.o}}"}}\n', /pipeline\.yml:4:\d+: jobs\.use\.inputs\.x: \$\{\{parent\.jobs\.prepp\.outputs\.o\}\} names no step "prepp"; did you mean "prep"\?/],
    ['a binding to a missing output', 'type: pipeline\njobs:\n  prep: {type: command, command: "true", outputs: {data: {type: uri_folder}}}\n  use: {type: command, command: "true", inputs: {x: "${{parent.jobs.prep.outputs.dta}}"}}\n', /jobs\.use\.inputs\.x: \$\{\{parent\.jobs\.prep\.outputs\.dta\}\}: step prep has no output "dta"; did you mean "data"\?/],
    ['an output bound twice', 'type: pipeline\noutputs:\n  final: {type: uri_folder}\njobs:\n  a: {type: command, command: "true", outputs: {o: "${{parent.outputs.final}}"}}\n  b: {type: command, command: "true", outputs: {o: "${{parent.outputs.final}}"}}\n', /jobs\.b\.outputs\.o: the pipeline output final is bound twice: by jobs\.a\.outputs\.o and by jobs\.b\.outputs\.o/],
    ['an unknown step type', 'type: pipeline\njobs:\n  a: {type: sweep, command: "true"}\n', /pipeline\.yml:3:\d+: jobs\.a\.type: expected type: parallel or type: command/],
    ['missing jobs', 'type: pipeline\nname: nothing\n', /jobs: required field is missing/],
    ['a typo in a command step field', 'type: pipeline\njobs:\n  a: {type: command, comand: "true"}\n', /jobs\.a\.comand: unknown field \(did you mean "command"\?\)/],
    ['a parallel step with a bad field', 'type: pipeline\njobs:\n  p:\n    type: parallel\n    input_data: x\n    mini_batch_size: "10"\n    retry_settings: {max_retries: three}\n    task: {code: ., entry_script: s.mjs}\n', /pipeline\.yml:7:\d+: jobs\.p\.retry_settings\.max_retries: expected an integer >= 0, got "three"/],
    ['a pipeline input binding typo', 'type: pipeline\ninputs:\n  rows: 10\njobs:\n  a: {type: command, command: "true", inputs: {n: "${{parent.inputs.row}}"}}\n', /\$\{\{parent\.inputs\.row\}\} names no pipeline input; did you mean "rows"\?/],
  ];
  for (const [what, yaml, message] of invalid) {
    it(`invalid: ${what} → exit 2, the message names it, nothing written`, async () => {
      const job = pipelineDir(yaml);
      const result = await runCli(['run', job.file], { home: job.home });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.ok(!existsSync(join(job.home, 'runs')), 'no run directory');
      const validate = await runCli(['validate', job.file], { home: job.home });
      assert.equal(validate.code, 2);
    });
  }

  it('a command exiting non-zero with a --set on a missing path: --set names the path', async () => {
    const job = pipelineDir('type: pipeline\njobs:\n  a: {type: command, command: "true"}\n');
    const result = await runCli(['run', job.file, '--set', 'jobs.a.comand=false'], { home: job.home });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--set jobs\.a\.comand=false: jobs\.a\.comand: unknown field \(did you mean "command"\?\)/);
  });
});
