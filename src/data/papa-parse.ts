import { createRequire } from 'node:module';
import type Papa from 'papaparse';
import { lazy } from '../spec/lazy.js';

/**
 * Papa Parse, required on first use: the controller parses CSV only for some tables (a header
 * and a sample, or rows whose columns differ), and loading it cost every run ~4 ms of start-up.
 * Required, not imported, in the worker too: an ES module import of this CommonJS package goes
 * through Node's ESM loader and its export scan, 17-27 ms against 4-6 ms for require (measured),
 * all of it before a worker's first table mini-batch.
 */
export const papaParse = lazy(() => createRequire(import.meta.url)('papaparse') as typeof Papa);
