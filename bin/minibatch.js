#!/usr/bin/env node
// The CLI bundled by `npm run build` (scripts/bundle.mjs): one module graph to load, not ~170 files.
import '../dist/bundle/main.js';
