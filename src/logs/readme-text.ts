/** `logs/readme.txt`: the run directory explained to the person reading it. */
export const RUN_README = `This folder holds one run of a minibatch parallel job.

Start here
  logs/job_result.txt      Final status. When the job failed, the first root-cause error
                           (with the script's traceback) comes first, then the counts and
                           the thresholds in force.

The run
  job.yml                  The job as it was run: every default made explicit, paths absolute.
  outputs/<name>/          Outputs that had no path of their own (the append_row file,
                           parallel_run_step.txt, lands here unless append_row_to names a path).
  state/                   The run store: journal.log (every mini-batch state change,
                           checksummed, fsynced), rows.spool (committed rows) and summary.json.

Logs
  logs/job_progress_overview.<yyyymmddhh>.txt
                           "Processed N of M mini batches in h:mm:ss. Estimated remaining time ..."
                           appended while the job runs, one file per hour.
  logs/sys/minibatch.log   The engine's log: notices, retries, worker restarts, thresholds.
  logs/sys/job_report/processed_mini-batches.csv
                           One row per mini-batch: id, tries, process, start, total items,
                           succeeded, failed, seconds, status, error (in the order they finished).
  logs/sys/perf/<node>/node_resource_usage.csv
                           CPU, memory and disk samples every resource_monitor_interval seconds.
  logs/user/stdout/<node>/<process>.stdout.txt
  logs/user/stderr/<node>/<process>.stderr.txt
                           What the entry script printed, per worker process (ctx.logger writes
                           to stderr). A replaced process keeps appending to the same files.
  logs/user/error/<node>/<process>.txt
                           Every error of that process: the mini-batch, the try and the full
                           traceback, including init() and shutdown() failures.
`;
