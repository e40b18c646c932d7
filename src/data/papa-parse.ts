import { createRequire } from 'node:module';
import type Papa from 'papaparse';
import { lazy } from '../spec/lazy.js';

/**
 * Papa Parse, required on first use: the controller parses CSV only for some tables (a header
 * and a sample, or rows whose columns differ), and loading it cost every run ~4 ms of start-up.
 */
export const papaParse = lazy(() => createRequire(import.meta.url)('papaparse') as typeof Papa);
