// minibatch studio: one page, hash-routed (#/ and #/run/<id>), built with DOM calls only.
// Run data is user content: it is always set as text, never parsed as HTML.

const app = document.getElementById('app');
let cleanup = [];

function h(tag, attrs = {}, ...children) {
  const isSvg = ['svg', 'g', 'rect', 'text', 'path', 'polyline', 'line', 'defs', 'marker', 'title'].includes(tag);
  const el = isSvg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'className') el.setAttribute('class', value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

async function api(path, options) {
  const response = await fetch(`/api${path}`, options);
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : await response.text();
  if (!response.ok) throw new Error(body?.error ?? `HTTP ${response.status}`);
  return body;
}

const badge = (status) => h('span', { className: `badge ${status}`, 'data-status': status }, status);
const clock = (ms) => {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const duration = (run) => clock((run.endedAt ? Date.parse(run.endedAt) : Date.now()) - Date.parse(run.startedAt));
function progressBar(done, failed, total) {
  const all = total || done + failed || 1;
  // Widths through the CSSOM: the Content-Security-Policy forbids style attributes.
  const ok = h('div', { className: 'ok' });
  const bad = h('div', { className: 'bad' });
  ok.style.width = `${(100 * done) / all}%`;
  bad.style.width = `${(100 * failed) / all}%`;
  return h('div', { className: 'bar', title: `${done} succeeded, ${failed} failed of ${total ?? '?'}` }, ok, bad);
}

// ---- runs list -------------------------------------------------------------------------

async function runsPage() {
  const status = h('select', { id: 'status-filter' }, ...['', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'].map((value) => h('option', { value }, value || 'any status')));
  const search = h('input', { id: 'name-filter', type: 'search', placeholder: 'filter by name or id' });
  const body = h('tbody');
  const table = h('table', { id: 'runs' }, h('thead', {}, h('tr', {}, ...['Run', 'Name', 'Kind', 'Status', 'Started', 'Duration', 'Progress'].map((title) => h('th', {}, title)))), body);
  app.replaceChildren(h('h1', {}, 'Runs'), h('div', { className: 'filters' }, status, search), table);
  const load = async () => {
    const params = new URLSearchParams();
    if (status.value) params.set('status', status.value);
    if (search.value) params.set('q', search.value);
    const { runs } = await api(`/runs?${params}`);
    body.replaceChildren(
      ...(runs.length === 0 ? [h('tr', {}, h('td', { colspan: 7, className: 'muted' }, 'no runs'))] : []),
      ...runs.map((run) =>
        h('tr', { 'data-run': run.runId },
          h('td', {}, h('a', { href: `#/run/${encodeURIComponent(run.runId)}` }, run.runId)),
          h('td', {}, run.name ?? ''),
          h('td', {}, run.kind),
          h('td', {}, badge(run.status)),
          h('td', {}, new Date(run.startedAt).toLocaleString()),
          h('td', {}, duration(run)),
          h('td', {}, progressBar(run.succeeded, run.failed, run.total), h('span', { className: 'muted' }, ` ${run.succeeded + run.failed}${run.total ? `/${run.total}` : ''}${run.kind === 'pipeline' ? ' steps' : ''}`)),
        ),
      ),
    );
  };
  status.addEventListener('change', load);
  search.addEventListener('input', load);
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  cleanup.push(() => clearInterval(timer));
}

// ---- one run -----------------------------------------------------------------------------

async function runPage(id) {
  const details = await api(`/runs/${encodeURIComponent(id)}`);
  const { run } = details;
  const message = h('div', { className: 'message', id: 'action-message' });
  const act = async (what) => {
    try {
      const result = await api(`/runs/${encodeURIComponent(id)}/${what}`, { method: 'POST' });
      message.textContent = result.message;
    } catch (error) {
      message.textContent = error.message;
    }
  };
  const actions = h('div', { className: 'actions' },
    h('button', { id: 'cancel', className: 'danger', disabled: run.status !== 'running', onclick: () => act('cancel') }, 'Cancel'),
    run.kind === 'job' ? h('button', { id: 'resume', disabled: ['running', 'succeeded'].includes(run.status), onclick: () => act('resume') }, 'Resume') : null,
    run.kind === 'job' ? h('button', { id: 'rerun-failed', disabled: run.status === 'running' || run.failed === 0, onclick: () => act('rerun-failed') }, 'Re-run failed') : null,
  );
  const statusBadge = h('span', { id: 'run-status' }, badge(run.status));
  const parent = id.includes('.') && run.kind === 'job' && details.run.runDir.includes('/steps/') ? id.slice(0, id.lastIndexOf('.')) : null;
  const sections = [
    h('div', { className: 'muted' }, h('a', { href: '#/' }, 'Runs'), parent ? [' / ', h('a', { href: `#/run/${encodeURIComponent(parent)}` }, parent)] : null),
    h('h1', {}, run.runId, ' ', statusBadge),
    h('div', { className: 'muted' }, `${run.name ?? ''} · started ${new Date(run.startedAt).toLocaleString()} · ${run.jobFile}`),
    actions,
    message,
  ];
  if (details.firstError) sections.push(h('h2', {}, 'First error'), h('div', { className: 'first-error', id: 'first-error' }, details.firstError));
  else if (run.reason && run.status !== 'succeeded') sections.push(h('div', { className: 'first-error', id: 'first-error' }, run.reason));
  const progress = h('div', { id: 'progress' });
  sections.push(h('h2', {}, 'Progress'), progress);
  const graph = h('div', { id: 'graph' });
  if (details.pipeline) sections.push(h('h2', {}, 'Pipeline'), graph);
  if (run.kind === 'job') {
    sections.push(h('h2', {}, 'Settings'), h('div', { className: 'grid', id: 'settings' }, ...details.settings.map((group) => h('div', { className: 'card' }, h('b', {}, group.title), h('dl', {}, ...group.fields.flatMap(([key, value]) => [h('dt', {}, key), h('dd', {}, value)]))))));
    sections.push(h('h2', {}, 'Throughput and resources'), h('div', { className: 'grid', id: 'charts' }));
    sections.push(h('h2', {}, 'Mini-batches'), h('div', { id: 'batches' }));
  }
  sections.push(h('h2', {}, 'Logs and files'), h('div', { id: 'files' }));
  sections.push(h('h2', {}, 'Outputs'), h('div', { id: 'outputs' }));
  app.replaceChildren(...sections);

  const render = (data) => {
    statusBadge.replaceChildren(badge(data.run.status));
    document.getElementById('cancel').disabled = data.run.status !== 'running';
    renderProgress(progress, data.run, data.progress);
    if (data.pipeline) renderGraph(graph, data.pipeline);
  };
  render(details);
  if (run.kind === 'job') {
    batchesTable(id, document.getElementById('batches'));
    charts(id, document.getElementById('charts'), run.status === 'running');
  }
  files(id, document.getElementById('files'), details);
  outputs(id, document.getElementById('outputs'));
  if (run.status === 'running') {
    const source = new EventSource(`/api/runs/${encodeURIComponent(id)}/events`);
    source.addEventListener('progress', (event) => render(JSON.parse(event.data)));
    source.addEventListener('end', () => {
      source.close();
      route();
    });
    cleanup.push(() => source.close());
  }
}

function renderProgress(el, run, progress) {
  if (run.kind === 'pipeline') {
    el.replaceChildren(h('div', { className: 'stats' }, h('div', {}, h('b', {}, `${run.succeeded}/${run.total}`), 'steps succeeded'), h('div', {}, h('b', {}, run.failed), 'failed')), progressBar(run.succeeded, run.failed, run.total));
    return;
  }
  const p = progress ?? {};
  const done = p.succeededBatches ?? run.succeeded;
  const failed = p.failedBatches ?? run.failed;
  const total = p.totalBatches ?? run.total;
  el.replaceChildren(
    h('div', { className: 'stats' },
      h('div', {}, h('b', { id: 'done-count' }, `${done + failed}${total ? ` / ${total}` : ''}`), 'mini-batches done'),
      h('div', {}, h('b', { id: 'failed-count' }, failed), 'failed'),
      h('div', {}, h('b', {}, p.retrying ?? 0), 'retrying'),
      h('div', {}, h('b', {}, p.running ?? 0), 'running'),
      h('div', {}, h('b', {}, `${p.succeededItems ?? '–'} / ${p.failedItems ?? '–'}`), 'items ok / failed'),
      h('div', {}, h('b', {}, p.batchesPerSecond !== undefined ? p.batchesPerSecond.toFixed(1) : '–'), 'mini-batches/s'),
      h('div', {}, h('b', {}, run.status === 'running' ? clock(p.etaMs) : '–'), 'ETA'),
      h('div', {}, h('b', {}, duration(run)), 'elapsed'),
    ),
    progressBar(done, failed, total),
  );
}

function renderGraph(el, pipeline) {
  // Layered layout: a step's column is one more than the deepest step it reads from.
  const depth = {};
  const byName = Object.fromEntries(pipeline.steps.map((step) => [step.name, step]));
  const level = (name, seen = new Set()) => {
    if (depth[name] !== undefined) return depth[name];
    if (seen.has(name)) return 0;
    seen.add(name);
    depth[name] = Math.max(-1, ...(byName[name]?.dependsOn ?? []).map((dep) => level(dep, seen))) + 1;
    return depth[name];
  };
  pipeline.steps.forEach((step) => level(step.name));
  const rows = {};
  const pos = {};
  for (const step of pipeline.steps) {
    const column = depth[step.name];
    rows[column] = (rows[column] ?? 0) + 1;
    pos[step.name] = { x: 20 + column * 220, y: 20 + (rows[column] - 1) * 80 };
  }
  const width = 60 + (Math.max(0, ...Object.values(depth)) + 1) * 220;
  const height = 40 + Math.max(...Object.values(rows)) * 80;
  const svg = h('svg', { className: 'graph', width, height, viewBox: `0 0 ${width} ${height}` },
    h('defs', {}, h('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' }, h('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#8c959f' }))),
    ...pipeline.edges.map((edge) => {
      const a = pos[edge.from];
      const b = pos[edge.to];
      return h('path', { className: 'edge', d: `M ${a.x + 170} ${a.y + 25} C ${a.x + 195} ${a.y + 25}, ${b.x - 25} ${b.y + 25}, ${b.x} ${b.y + 25}` });
    }),
    ...pipeline.steps.map((step) =>
      h('g', { className: `node ${step.status}`, 'data-step': step.name, transform: `translate(${pos[step.name].x},${pos[step.name].y})`, onclick: () => (location.hash = `#/run/${encodeURIComponent(step.id)}`) },
        h('title', {}, step.reason ?? step.status),
        h('rect', { width: 170, height: 50, rx: 6 }),
        h('text', { x: 10, y: 21, 'font-weight': 600 }, step.name),
        h('text', { x: 10, y: 39, 'font-size': 11, fill: '#57606a' }, `${step.type} · ${step.reusedFrom ? 'reused' : step.status}`),
      ),
    ),
  );
  el.replaceChildren(svg);
}

async function batchesTable(id, el) {
  const state = { offset: 0, limit: 100, sort: 'id', order: 'asc', status: '', q: '' };
  const status = h('select', { id: 'batch-status' }, ...['', 'succeeded', 'failed'].map((value) => h('option', { value }, value || 'any status')));
  const search = h('input', { id: 'batch-search', type: 'search', placeholder: 'search errors, process, id' });
  const info = h('span', { className: 'muted', id: 'batch-info' });
  const prev = h('button', { id: 'batch-prev' }, '‹ previous');
  const next = h('button', { id: 'batch-next' }, 'next ›');
  const head = h('tr');
  const body = h('tbody');
  const columns = [['id', 'Id'], ['status', 'Status'], ['tries', 'Tries'], ['seconds', 'Seconds'], ['start', 'Started'], ['total', 'Items'], ['failed', 'Failed items'], ['process', 'Node / process'], [null, 'Error']];
  el.replaceChildren(h('div', { className: 'filters' }, status, search), h('div', { className: 'pager' }, prev, next, info), h('table', { id: 'batch-table' }, h('thead', {}, head), body));
  const load = async () => {
    const params = new URLSearchParams({ offset: state.offset, limit: state.limit, sort: state.sort, order: state.order });
    if (state.status) params.set('status', state.status);
    if (state.q) params.set('q', state.q);
    const { total, rows } = await api(`/runs/${encodeURIComponent(id)}/batches?${params}`);
    head.replaceChildren(...columns.map(([key, title]) => h('th', { className: key ? 'sortable' : '', 'data-sort': key, onclick: key ? () => { state.order = state.sort === key && state.order === 'asc' ? 'desc' : 'asc'; state.sort = key; state.offset = 0; load(); } : undefined }, title, state.sort === key ? (state.order === 'asc' ? ' ▲' : ' ▼') : '')));
    body.replaceChildren(...rows.map((row) => h('tr', {}, h('td', {}, row.id), h('td', {}, badge(row.status)), h('td', {}, row.tries), h('td', {}, row.seconds.toFixed(3)), h('td', {}, row.start.replace('T', ' ').slice(0, 19)), h('td', {}, row.total), h('td', {}, row.failed), h('td', {}, row.process), h('td', { className: 'error' }, row.error))));
    info.textContent = total === 0 ? 'none yet' : `${state.offset + 1}–${Math.min(total, state.offset + state.limit)} of ${total}`;
    prev.disabled = state.offset === 0;
    next.disabled = state.offset + state.limit >= total;
  };
  prev.addEventListener('click', () => { state.offset = Math.max(0, state.offset - state.limit); load(); });
  next.addEventListener('click', () => { state.offset += state.limit; load(); });
  status.addEventListener('change', () => { state.status = status.value; state.offset = 0; load(); });
  search.addEventListener('input', () => { state.q = search.value; state.offset = 0; load(); });
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  cleanup.push(() => clearInterval(timer));
}

function lineChart(title, series, unit, empty) {
  const width = 420;
  const height = 140;
  const colors = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df'];
  const all = series.flatMap((one) => one.points);
  if (all.length === 0) return h('div', { className: 'card' }, h('b', {}, title), h('div', { className: 'muted' }, empty));
  const max = Math.max(1e-9, ...all.map((point) => point[1]));
  const count = Math.max(...series.map((one) => one.points.length));
  const x = (i) => 30 + (i * (width - 40)) / Math.max(1, count - 1);
  const y = (v) => height - 20 - (v / max) * (height - 30);
  return h('div', { className: 'card' }, h('b', {}, title), ' ', h('span', { className: 'muted' }, `max ${max.toFixed(1)} ${unit}`),
    h('svg', { className: 'chart', width: '100%', height, viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none' },
      h('line', { className: 'axis', x1: 30, y1: height - 20, x2: width - 10, y2: height - 20 }),
      ...series.map((one, index) => h('polyline', { stroke: colors[index % colors.length], points: one.points.map((point, i) => `${x(i)},${y(point[1])}`).join(' ') }, h('title', {}, one.name))),
    ),
    h('div', { className: 'muted' }, series.map((one) => one.name).join(' · ')));
}

async function charts(id, el, live) {
  const draw = async () => {
    const perf = await api(`/runs/${encodeURIComponent(id)}/perf`);
    const nodes = Object.entries(perf.nodes);
    const noSamples = 'no samples (resource_monitor_interval is 0, or no sample was taken yet)';
    el.replaceChildren(
      lineChart('Throughput', [{ name: 'mini-batches finished per interval', points: perf.throughput.map((point, i) => [i, point.batches]) }], 'per interval', 'no mini-batch has finished yet'),
      lineChart('CPU', nodes.map(([node, rows]) => ({ name: node, points: rows.map((row, i) => [i, row.cpu_percent]) })), '%', noSamples),
      lineChart('Memory used', nodes.map(([node, rows]) => ({ name: node, points: rows.map((row, i) => [i, row.memory_used_mb]) })), 'MB', noSamples),
    );
  };
  await draw();
  if (live) {
    const timer = setInterval(() => draw().catch(() => {}), 5000);
    cleanup.push(() => clearInterval(timer));
  }
}

async function files(id, el, details) {
  const viewer = h('pre', { className: 'file', id: 'file-viewer' });
  const title = h('div', { className: 'muted', id: 'file-title' });
  const show = async (path) => {
    title.textContent = path;
    viewer.textContent = await api(`/runs/${encodeURIComponent(id)}/file?path=${encodeURIComponent(path)}`);
  };
  const { files: entries } = await api(`/runs/${encodeURIComponent(id)}/files`);
  const list = h('ul', { className: 'files', id: 'file-list' }, ...entries.filter((entry) => entry.kind === 'file').map((entry) => h('li', {}, h('a', { 'data-path': entry.path, onclick: () => show(entry.path) }, entry.path), ' ', h('span', { className: 'muted' }, `${entry.size} B`), ' ', h('a', { href: `/api/runs/${encodeURIComponent(id)}/file?path=${encodeURIComponent(entry.path)}&download=1` }, 'download'))));
  el.replaceChildren(list, title, viewer);
  if (details.jobResult) {
    title.textContent = 'logs/job_result.txt';
    viewer.textContent = details.jobResult;
  }
}

async function outputs(id, el) {
  const { outputs: list } = await api(`/runs/${encodeURIComponent(id)}/outputs`);
  const link = (name, path) => `/api/runs/${encodeURIComponent(id)}/outputs?name=${encodeURIComponent(name)}${path ? `&path=${encodeURIComponent(path)}` : ''}`;
  el.replaceChildren(list.length === 0 ? h('div', { className: 'muted' }, 'summary_only: the script writes its own outputs') : h('ul', { className: 'files', id: 'output-list' }, ...list.map((output) =>
    h('li', {}, h('b', {}, output.name), ' ', h('span', { className: 'muted' }, output.path), ' ',
      output.kind === 'file' ? [h('a', { href: link(output.name), target: '_blank' }, 'view'), ' ', h('a', { href: `${link(output.name)}&download=1` }, 'download')] : output.kind === 'missing' ? h('span', { className: 'muted' }, '(not written)') : null,
      output.entries ? folderEntries(output, link) : null,
    ))));
}

/** A folder output's files, folded: a long listing would bury the rest of the page. */
function folderEntries(output, link) {
  const files = output.entries.filter((entry) => entry.kind === 'file');
  const shown = files.slice(0, 100);
  return h('details', {}, h('summary', {}, `${files.length} file(s)`),
    h('ul', {}, ...shown.map((entry) => h('li', {}, h('a', { href: link(output.name, entry.path), target: '_blank' }, entry.path), ' ', h('a', { href: `${link(output.name, entry.path)}&download=1` }, 'download'))),
      files.length > shown.length ? h('li', { className: 'muted' }, `and ${files.length - shown.length} more`) : null));
}

// ---- routing -----------------------------------------------------------------------------

async function route() {
  for (const stop of cleanup) stop();
  cleanup = [];
  const match = /^#\/run\/(.+)$/.exec(location.hash);
  try {
    if (match) await runPage(decodeURIComponent(match[1]));
    else await runsPage();
  } catch (error) {
    app.replaceChildren(h('h1', {}, 'Something went wrong'), h('div', { className: 'first-error' }, error.message), h('a', { href: '#/' }, 'back to the runs'));
  }
}

window.addEventListener('hashchange', route);
route();
