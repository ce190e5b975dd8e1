// The dashboard of `n8n-fleet serve`: plain JS over the /api/v1 routes, Chart.js for the charts.
// State for tests and debugging: document.body.dataset.state (token|loading|ready|error) and
// window.fleetCharts.{monthly,daily} (the Chart.js instances; .data holds what is drawn).
'use strict';

(function() {
const kTokenKey = 'n8n-fleet.token';
const kRecentRuns = 20;      // runs listed
const kFailedRunsShown = 5;  // runs with failures whose attempts are listed
const kMaxTableRows = 500;   // rows drawn per table (the count shows the rest)
const kColors = {
  total: '#2f6fde',
  failed: '#d9463b',
  push: '#8a5cd1'
};

const $ = (id) => document.getElementById(id);
const numberFormat = new Intl.NumberFormat('en-US');
const charts = {
  monthly: null,
  daily: null
};
window.fleetCharts = charts;
let servers = [];
let monthRange = null;  // {month, from, to} of the report on screen

class ApiError extends Error {
  constructor(status, code, message, parameter) {
    super(message);
    this.status = status;
    this.code = code;
    this.parameter = parameter;
  }
}

// GET `path` with the stored token; throws ApiError with the API's own message on failure.
async function api(path, accept = 'application/json') {
  const token = localStorage.getItem(kTokenKey) || '';
  let res;
  try {
    res = await fetch(path, {
      headers: {'Authorization': 'Bearer ' + token, 'Accept': accept},
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', `Could not reach the service (${e.message}).`, '');
  }
  if (!res.ok) {
    let error = {};
    try {
      error = (await res.json()).error || {};
    } catch (e) {
      // Not JSON: fall back to the status line below.
    }
    const message = error.message || `${path} answered HTTP ${res.status}.`;
    throw new ApiError(res.status, error.code || '', message, error.parameter || '');
  }
  return res;
}
const getJson = async (path) => (await api(path)).json();

// --- small DOM helpers ------------------------------------------------------------------------
function setState(state) {
  document.body.dataset.state = state;
}
function showBanner(message) {
  const banner = $('error-banner');
  banner.textContent = message;
  banner.hidden = !message;
}
function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? '' : String(text);
  if (className) td.className = className;
  return td;
}
// Replaces the body of table `id` with one row per item (at most kMaxTableRows).
function fillTable(id, items, columns, emptyText) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const item of items.slice(0, kMaxTableRows)) {
    const row = body.insertRow();
    for (const column of columns) {
      const value = column(item);
      cell(row, value, typeof value === 'number' ? 'num' : '');
    }
  }
  if (items.length === 0 || items.length > kMaxTableRows) {
    const row = body.insertRow();
    const td = cell(
        row, items.length === 0 ? emptyText : `... and ${items.length - kMaxTableRows} more`,
        'muted');
    td.colSpan = columns.length;
  }
}
const when = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+/, '') : 'never');
const fmt = (n) => numberFormat.format(n);

// --- days --------------------------------------------------------------------------------------
function yesterdayMonth() {
  const d = new Date(Date.now() - 86400000);
  return d.toISOString().slice(0, 7);
}
function daysBetween(from, to) {  // inclusive YYYY-MM-DD list, bounded to 400 days
  const days = [];
  const end = Date.parse(to + 'T00:00:00Z');
  for (let t = Date.parse(from + 'T00:00:00Z'); t <= end && days.length < 400; t += 86400000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

// --- charts ------------------------------------------------------------------------------------
function drawChart(name, canvasId, labels, datasets, stacked) {
  if (!window.Chart) throw new Error('The chart library did not load (/assets/chart.umd.js).');
  if (charts[name]) charts[name].destroy();
  charts[name] = new window.Chart($(canvasId), {
    type: 'bar',
    data: {labels, datasets},
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {x: {stacked}, y: {beginAtZero: true, stacked}},
      plugins: {legend: {position: 'bottom'}},
    },
  });
}

// --- sections ----------------------------------------------------------------------------------
async function loadServers() {
  servers = (await getJson('/api/v1/servers')).servers;
  const customers = new Set(servers.map((s) => s.customer).filter((c) => c));
  $('stat-servers').textContent = fmt(servers.length);
  $('stat-customers').textContent = fmt(customers.size);
  fillTable(
      'servers-table', servers,
      [
        (s) => s.name,
        (s) => s.customer,
        (s) => s.url,
        (s) => (s.active ? 'yes' : 'no'),
        (s) => s.tracking_since || '',
        (s) => when(s.last_collected_at),
      ],
      'No servers registered yet (n8n-fleet server add / server import).');
  const select = $('server-select');
  const previous = select.value;
  select.replaceChildren();
  for (const s of servers)
    select.add(new Option(`${s.name} (${s.customer || 'no customer'})`, s.name));
  if (servers.some((s) => s.name === previous)) select.value = previous;
}

async function loadMonthly() {
  const month = $('month-picker').value || yesterdayMonth();
  const section = $('monthly');
  delete section.dataset.loadedMonth;
  const report =
      await getJson(`/api/v1/reports/monthly?month=${encodeURIComponent(month)}&by=customer`);
  monthRange = {month: report.month, from: report.from, to: report.to};
  $('monthly-range').textContent = `${report.from} to ${report.to}:`;
  $('monthly-total').textContent = fmt(report.totals.total);
  $('monthly-failed').textContent = fmt(report.totals.failed);
  const rows = report.rows;
  drawChart(
      'monthly', 'monthly-chart', rows.map((r) => r.group),
      [
        {
          label: 'billable executions',
          data: rows.map((r) => r.total),
          backgroundColor: kColors.total
        },
        {label: 'failed', data: rows.map((r) => r.failed), backgroundColor: kColors.failed},
      ],
      false);
  fillTable(
      'monthly-table', rows,
      [
        (r) => r.group,
        (r) => r.servers,
        (r) => r.total,
        (r) => r.failed,
        (r) => `${r.days_collected} / ${r.days_expected}`,
        (r) => (r.complete ? 'yes' : 'no'),
      ],
      `No usage collected for ${report.month}.`);
  section.dataset.loadedMonth = report.month;
}

async function loadDaily() {
  const section = $('daily');
  delete section.dataset.loadedServer;
  const server = $('server-select').value;
  if (!server || !monthRange) {
    if (charts.daily) charts.daily.destroy();
    charts.daily = null;
    $('daily-range').textContent = 'No server selected.';
    return;
  }
  const {from, to} = monthRange;
  const query = `server=${encodeURIComponent(server)}&from=${from}&to=${to}`;
  const usage = (await getJson(`/api/v1/usage?${query}`)).usage;
  const days = daysBetween(from, to);
  const index = new Map(days.map((d, i) => [d, i]));
  const bySource = new Map();  // source -> {total[], failed[]}
  for (const u of usage) {
    if (!index.has(u.day)) continue;
    if (!bySource.has(u.source)) {
      bySource.set(u.source, {total: days.map(() => null), failed: days.map(() => null)});
    }
    const series = bySource.get(u.source);
    series.total[index.get(u.day)] = u.total;
    series.failed[index.get(u.day)] = u.failed;
  }
  const datasets = [];
  for (const [source, series] of bySource) {
    const push = source !== 'pull' && bySource.size > 1;
    datasets.push({
      label: `executions (${source})`,
      data: series.total,
      backgroundColor: push ? kColors.push : kColors.total,
      stack: source
    });
    datasets.push({
      label: `failed (${source})`,
      data: series.failed,
      backgroundColor: kColors.failed,
      stack: source + '-failed'
    });
  }
  drawChart('daily', 'daily-chart', days, datasets, false);
  $('daily-range').textContent = `${server}, ${from} to ${to}: ${usage.length} days with figures.`;
  section.dataset.loadedServer = server;
}

async function loadGaps() {
  const result = await getJson('/api/v1/gaps');
  $('gaps-count').textContent = `(${fmt(result.count)})`;
  $('stat-gaps').textContent = fmt(result.count);
  fillTable(
      'gaps-table', result.gaps, [(g) => g.server, (g) => g.customer, (g) => g.day],
      'No gaps: every tracked day is collected.');
}

async function loadRuns() {
  const runs = (await getJson(`/api/v1/runs?limit=${kRecentRuns}`)).runs;
  runs.sort((a, b) => b.id - a.id);
  fillTable(
      'runs-table', runs,
      [
        (r) => r.id,
        (r) => r.status,
        (r) => when(r.started_at),
        (r) => when(r.finished_at),
        (r) => r.servers_attempted,
        (r) => r.servers_succeeded,
        (r) => r.servers_failed,
        (r) => r.days_stored,
        (r) => r.description,
      ],
      'No collection runs yet (n8n-fleet collect).');
  const latest = runs[0];
  $('stat-last-run').textContent = latest ? `#${latest.id} ${latest.status}` : 'none';
  $('stat-failures').textContent = latest ? fmt(latest.servers_failed) : '-';
  const withFailures =
      runs.filter((r) => r.servers_failed > 0 || r.status === 'failed').slice(0, kFailedRunsShown);
  const details = await Promise.all(withFailures.map((r) => getJson(`/api/v1/runs/${r.id}`)));
  // One row per (run, server, outcome): a server down for a month is one line, not 31.
  const groups = new Map();
  let attempts = 0;
  for (const run of details) {
    for (const a of run.attempts || []) {
      if (a.outcome === 'ok') continue;
      attempts++;
      const key = `${run.id}\n${a.server}\n${a.outcome}`;
      const g = groups.get(key);
      if (!g) {
        groups.set(key, {run: run.id, first: a.day, last: a.day, days: 1, ...a});
      } else {
        g.days++;
        if (a.day < g.first) g.first = a.day;
        if (a.day > g.last) g.last = a.day;
      }
    }
  }
  const failed = [...groups.values()];
  $('failures-count').textContent = `(${fmt(attempts)} server-days)`;
  fillTable(
      'failures-table', failed,
      [
        (g) => g.run,
        (g) => g.server,
        (g) => (g.days === 1 ? g.first : `${g.first} to ${g.last} (${g.days} days)`),
        (g) => g.outcome,
        (g) => (g.http_status ? g.http_status : ''),
        (g) => g.message,
      ],
      'No failed collections in the recent runs.');
}

// --- CSV download: the exact bytes the API serves, saved through a Blob link -----------------
async function downloadCsv() {
  const month = monthRange ? monthRange.month : ($('month-picker').value || yesterdayMonth());
  try {
    const res = await api(
        `/api/v1/reports/monthly?month=${encodeURIComponent(month)}&by=customer`, 'text/csv');
    const blob = await res.blob();
    const disposition = res.headers.get('Content-Disposition') || '';
    const match = /filename="?([^";]+)"?/.exec(disposition);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = match ? match[1] : `fleet-usage-${month}-by-customer.csv`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  } catch (e) {
    handleError(e);
  }
}

// --- token and page flow -----------------------------------------------------------------------
function showTokenPanel(message) {
  setState('token');
  $('dashboard').hidden = true;
  $('change-token').hidden = true;
  $('token-panel').hidden = false;
  $('token-error').textContent = message || '';
  $('token-error').hidden = !message;
  $('token-input').value = '';
  $('token-input').focus();
}

function handleError(e) {
  if (e instanceof ApiError && e.status === 401) {
    localStorage.removeItem(kTokenKey);
    showTokenPanel(`The token was refused: ${e.message}`);
    return;
  }
  setState('error');
  showBanner(e.message || String(e));
}

async function loadDashboard() {
  setState('loading');
  showBanner('');
  try {
    await loadServers();  // first: a bad token fails here, once
    $('token-panel').hidden = true;
    $('dashboard').hidden = false;
    $('change-token').hidden = false;
    await Promise.all([loadMonthly(), loadGaps(), loadRuns()]);
    await loadDaily();
    setState('ready');
  } catch (e) {
    handleError(e);
  }
}

// Re-draws one part; the page stays usable if it fails.
async function reload(...parts) {
  setState('loading');
  try {
    for (const part of parts) await part();
    setState('ready');
  } catch (e) {
    handleError(e);
  }
}

function init() {
  $('month-picker').value = yesterdayMonth();
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token-input').value.trim();
    if (!token) return;
    localStorage.setItem(kTokenKey, token);
    loadDashboard();
  });
  $('change-token').addEventListener('click', () => showTokenPanel(''));
  $('month-picker').addEventListener('change', () => reload(loadMonthly, loadDaily));
  $('server-select').addEventListener('change', () => reload(loadDaily));
  $('csv-download').addEventListener('click', downloadCsv);
  if (localStorage.getItem(kTokenKey)) {
    loadDashboard();
  } else {
    showTokenPanel('');
  }
}

init();
})();
