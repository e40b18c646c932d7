import { Command, Option } from 'commander';
import { EXIT, reportError } from './exit.js';

/*
 * The command table. Each command lazy-imports a plain async function from commands/, so
 * `minibatch --help` does not load the engine.
 */
const collect = (value: string, previous: string[]) => [...previous, value];

// `minibatch job list | head`: a closed pipe ends the command quietly, as it does for other tools.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

function buildProgram(): Command {
  const program = new Command('minibatch')
    .description('Run parallel jobs: split a big input into mini-batches and run an entry script over them on many worker processes.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .exitOverride()
    .showSuggestionAfterError(true)
    // A command validates each file it reads once: zod's JIT (a parser compiled per object schema
    // on its first use) costs more than it saves then (a 1-mini-batch `minibatch run` took 7-17 ms
    // less without it, in three A/B runs). Set here, not where the schemas are: zod's config is
    // global, and a library user's own parsing keeps its JIT.
    .hook('preAction', async () => {
      (await import('zod')).config({ jitless: true });
    });

  const setOption = () => new Option('--set <key.path=value>', 'override a job field (repeatable)').argParser(collect).default([]);
  const computeOption = () => new Option('--compute <name>', 'run on this compute (`local` runs here whatever the job names)');
  const pythonOption = () => new Option('--python <interpreter>', 'the Python interpreter for .py entry scripts (default: MINIBATCH_PYTHON, then python3 on PATH)');

  program
    .command('run')
    .description('run a job file (type: parallel) and wait for it')
    .argument('<job.yml>', 'the job file')
    .addOption(setOption())
    .addOption(computeOption())
    .addOption(pythonOption())
    .option('--force-rerun', 'pipelines: run every step, reuse no earlier result')
    .option('--json', 'print a machine-readable summary at the end')
    .action(async (file: string, options) => {
      (await import('./prewarm.js')).prewarmForJobFile(file, options);
      const { runCommand } = await import('./commands/run.js');
      process.exitCode = await runCommand(file, options);
    });

  const job = program.command('job').description('jobs: create (run), list, show, cancel, resume');
  job
    .command('list')
    .description('the runs under the minibatch home, newest first')
    .option('--status <status>', 'only runs with this status (running, succeeded, failed, cancelled, interrupted)')
    .option('--json', 'machine-readable')
    .action(async (options) => {
      const { jobListCommand } = await import('./commands/jobs.js');
      process.exitCode = await jobListCommand(options);
    });
  job
    .command('show')
    .description('one run: status, counts, which node ran what, and its job_result.txt')
    .argument('<run-id>', 'the run id (a folder under $MINIBATCH_HOME/runs) or the run directory')
    .action(async (runId: string) => {
      const { jobShowCommand } = await import('./commands/jobs.js');
      process.exitCode = await jobShowCommand(runId);
    });
  job
    .command('logs')
    .description('a run\'s engine log (a pipeline step\'s with --step); --follow prints new lines until the run ends')
    .argument('<run-id>', 'the run id (a folder under $MINIBATCH_HOME/runs) or the run directory')
    .option('--step <name>', 'for a pipeline: the step whose log to show')
    .option('-f, --follow', 'keep printing what is appended until the run ends')
    .action(async (runId: string, options) => {
      const { jobLogsCommand } = await import('./commands/jobs.js');
      process.exitCode = await jobLogsCommand(runId, options);
    });
  job
    .command('cancel')
    .description('stop a running job from another terminal, as Ctrl-C would: running mini-batches may commit; it stays resumable')
    .argument('<run-id>', 'the run id (a folder under $MINIBATCH_HOME/runs) or the run directory')
    .option('--wait <seconds>', 'how long to wait for it to stop', '60')
    .action(async (runId: string, options) => {
      const { jobCancelCommand } = await import('./commands/jobs.js');
      process.exitCode = await jobCancelCommand(runId, options);
    });
  job
    .command('create')
    .description('run a job file and wait (the reference CLI\'s verb: az ml job create --file)')
    .requiredOption('-f, --file <job.yml>', 'the job file')
    .addOption(setOption())
    .addOption(computeOption())
    .addOption(pythonOption())
    .option('--force-rerun', 'pipelines: run every step, reuse no earlier result')
    .option('--json', 'print a machine-readable summary at the end')
    .action(async (options) => {
      (await import('./prewarm.js')).prewarmForJobFile(options.file, options);
      const { runCommand } = await import('./commands/run.js');
      process.exitCode = await runCommand(options.file, options);
    });

  job
    .command('resume')
    .description('go on with a run that was killed, cancelled or failed: committed mini-batches are kept, the rest run')
    .argument('<run-id>', 'the run id (a folder under $MINIBATCH_HOME/runs) or the run directory')
    .option('--allow-changes', 'resume even though the job file or the code changed since the run started')
    .option('--failed', 'also re-run the mini-batches whose final try failed (as rerun-failed)')
    .addOption(pythonOption())
    .option('--json', 'print a machine-readable summary at the end')
    .action(async (runId: string, options) => {
      const { runCommand } = await import('./commands/run.js');
      process.exitCode = await runCommand('', { set: [], ...options, resume: runId, failedOnly: options.failed === true });
    });

  job
    .command('rerun-failed')
    .description('re-run only the mini-batches of a run whose final try failed; the others are kept')
    .argument('<run-id>', 'the run id (a folder under $MINIBATCH_HOME/runs) or the run directory')
    .option('--allow-changes', 're-run even though the job file or the code changed (the usual case: the script was fixed)')
    .addOption(pythonOption())
    .option('--json', 'print a machine-readable summary at the end')
    .action(async (runId: string, options) => {
      const { runCommand } = await import('./commands/run.js');
      process.exitCode = await runCommand('', { set: [], ...options, resume: runId, failedOnly: true });
    });

  program
    .command('agent')
    .description('serve a Redis compute: run the mini-batches of its jobs on this machine until stopped')
    .requiredOption('--compute <name>', 'a type: redis compute of minibatch.config.yml')
    .option('--processes <n>', 'worker processes when a job does not set max_concurrency_per_instance (default: this machine\'s cores)')
    .option('--node-name <name>', 'this agent\'s name, unique within the compute (default: the host name)')
    .addOption(pythonOption())
    .action(async (options) => {
      const { agentCommand } = await import('./commands/agent.js');
      process.exitCode = await agentCommand(options);
    });

  program
    .command('studio')
    .description('a web app to watch and steer the runs of this minibatch home (127.0.0.1 only, unless --host)')
    .option('--port <port>', 'port to listen on', '8265')
    .option('--host <host>', 'address to bind; anything but loopback requires a token, printed at start', '127.0.0.1')
    .action(async (options) => {
      const { studioCommand } = await import('./commands/studio.js');
      process.exitCode = await studioCommand(options);
    });

  program
    .command('validate')
    .description('check a job file without running it')
    .argument('<job.yml>', 'the job file')
    .addOption(setOption())
    .addOption(computeOption())
    .action(async (file: string, options) => {
      const { validateCommand } = await import('./commands/validate.js');
      process.exitCode = await validateCommand(file, options);
    });
  return program;
}

// No top-level await: the CLI is bundled as a script (scripts/bundle.mjs), to load from V8's code cache.
buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.exitCode = reportError(error);
  })
  .finally(() => {
    if (process.exitCode === undefined) process.exitCode = EXIT.ok;
  });
