import { isMap, type YAMLMap } from 'yaml';
import { YamlSource } from '../spec/yaml-source.js';

/*
 * Whether a file holds a pipeline or a single job, told apart without loading the pipeline
 * modules: `minibatch run job.yml` loads them only for a pipeline.
 */

/** Does the file hold a pipeline (rather than a single job)? */
export function isPipelineSource(source: YamlSource): boolean {
  const contents = source.document.contents;
  if (!isMap(contents)) return false;
  const type = (contents as YAMLMap).get('type');
  return type === 'pipeline';
}

/** Whether a job file is a `type: pipeline` file (read once more by the command that runs it). */
export function isPipelineFile(file: string): boolean {
  return isPipelineSource(YamlSource.read(file));
}
