// The dashboard in a real headless Chromium, against a running `n8n-fleet serve` (started and
// seeded by run.sh, which passes everything in DASHBOARD_* variables). Exits non-zero on the
// first failed check, after saving dashboard-failure.png.
'use strict';

const assert = require('node:assert/strict');
const {execFileSync} = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run tests/dashboard/run.sh)`);
  return value;
}
const base = env('DASHBOARD_URL');
const token = env('DASHBOARD_TOKEN');
const db = env('DASHBOARD_DB');
const month = env('DASHBOARD_MONTH');
const seededServers = env('DASHBOARD_SERVERS').split(',');
const artefacts = env('DASHBOARD_ARTEFACTS');
const {chromium} = require(env('PLAYWRIGHT_CORE'));

const kTimeoutMs = 20000;
const kWrongToken = 'not-a-valid-token-0123456789';

// The API itself, for the expected values.
async function api(route, {accept = 'application/json', bearer = token} = {}) {
  return fetch(base + route, {
    headers: {'Authorization': `Bearer ${bearer}`, 'Accept': accept},
    signal: AbortSignal.timeout(kTimeoutMs),
  });
}
async function apiJson(route) {
  const res = await api(route);
  assert.equal(res.status, 200, `GET ${route}`);
  return res.json();
}

// The database itself, read with the sqlite3 shell.
function sql(query) {
  const out = execFileSync(
      'sqlite3', ['-readonly', '-json', db, query], {encoding: 'utf8', timeout: kTimeoutMs});
  return out.trim() ? JSON.parse(out) : [];
}

function ok(message) {
  console.log(`ok - ${message}`);
}

async function checkWrongToken(page) {
  await page.goto(base + '/', {waitUntil: 'load'});
  await page.waitForSelector('body[data-state="token"] #token-input', {timeout: kTimeoutMs});
  assert.equal(await page.isVisible('#dashboard'), false, 'dashboard hidden before a token');

  const res = await api('/api/v1/servers', {bearer: kWrongToken});
  assert.equal(res.status, 401, 'the API refuses the wrong token');
  const apiMessage = (await res.json()).error.message;
  assert.ok(apiMessage, 'the 401 has a message');

  await page.fill('#token-input', kWrongToken);
  await page.click('#token-submit');
  await page.waitForSelector('#token-error:not([hidden])', {timeout: kTimeoutMs});
  const shown = await page.textContent('#token-error');
  assert.ok(shown.includes(apiMessage), `token error "${shown}" carries "${apiMessage}"`);
  assert.equal(await page.getAttribute('body', 'data-state'), 'token');
  assert.equal(await page.isVisible('#dashboard'), false, 'dashboard stays hidden');
  assert.equal(
      await page.evaluate(() => localStorage.getItem('n8n-fleet.token')), null,
      'the refused token is not kept');
  ok(`a wrong token shows the API's error: "${shown}"`);
}

async function checkOverview(page) {
  await page.fill('#token-input', token);
  await page.click('#token-submit');
  await page.waitForSelector('body[data-state="ready"]', {timeout: kTimeoutMs});
  assert.equal(
      await page.evaluate(() => localStorage.getItem('n8n-fleet.token')), token,
      'the accepted token is kept');

  const names = await page.$$eval(
      '#servers-table tbody tr', (rows) => rows.map((r) => r.cells[0].textContent));
  const apiNames = (await apiJson('/api/v1/servers')).servers.map((s) => s.name);
  const dbNames = sql('SELECT name FROM servers').map((r) => r.name);
  assert.deepEqual([...names].sort(), [...seededServers].sort(), 'table rows = seeded servers');
  assert.deepEqual([...apiNames].sort(), [...seededServers].sort(), 'API servers = seeded');
  assert.deepEqual([...dbNames].sort(), [...seededServers].sort(), 'database servers = seeded');
  assert.equal(await page.textContent('#stat-servers'), String(seededServers.length));
  const customers = new Set(sql('SELECT customer FROM servers').map((r) => r.customer));
  assert.equal(await page.textContent('#stat-customers'), String(customers.size));

  // The unreachable server failed in the latest run: counted and listed.
  const runs = (await apiJson('/api/v1/runs?limit=1')).runs;
  assert.equal(await page.textContent('#stat-failures'), String(runs[0].servers_failed));
  assert.ok(runs[0].servers_failed >= 1, 'the seeded run has a failure');
  const failedServers = await page.$$eval(
      '#failures-table tbody tr', (rows) => rows.map((r) => r.cells[1].textContent));
  assert.ok(failedServers.includes('unreachable-1'), 'failed collections list unreachable-1');

  const gaps = await apiJson('/api/v1/gaps');
  assert.equal(await page.textContent('#gaps-count'), `(${gaps.count})`);
  ok(`overview: ${names.length} servers, ${customers.size} customers, ` +
     `${runs[0].servers_failed} failed in run ${runs[0].id}, ${gaps.count} gaps`);
}

async function checkMonthlyChart(page) {
  await page.fill('#month-picker', month);
  await page.waitForSelector(
      `body[data-state="ready"] #monthly[data-loaded-month="${month}"]`, {timeout: kTimeoutMs});
  const chart = await page.evaluate(() => {
    const c = window.fleetCharts.monthly;
    return {
      labels: c.data.labels,
      totals: c.data.datasets[0].data,
      failed: c.data.datasets[1].data,
    };
  });
  const report = await apiJson(`/api/v1/reports/monthly?month=${month}&by=customer`);
  assert.deepEqual(chart.labels, report.rows.map((r) => r.group), 'chart labels = API groups');
  assert.deepEqual(chart.totals, report.rows.map((r) => r.total), 'chart bars = API totals');
  assert.deepEqual(chart.failed, report.rows.map((r) => r.failed), 'failed bars = API failed');
  const sum = chart.totals.reduce((a, b) => a + b, 0);
  assert.equal(sum, report.totals.total, 'chart sum = API totals.total');

  const rows = sql(`SELECT customer, SUM(total) AS total, SUM(failed) AS failed FROM usage_daily
                    WHERE source = 'pull' AND day BETWEEN '${report.from}' AND '${report.to}'
                    GROUP BY customer`);
  assert.ok(rows.length >= 2, 'the database holds several customers for the month');
  const fromDb = new Map(rows.map((r) => [r.customer, r]));
  chart.labels.forEach((customer, i) => {
    const want = fromDb.get(customer) || {total: 0, failed: 0};
    assert.equal(chart.totals[i], want.total, `${customer}: chart total = SUM(usage_daily.total)`);
    assert.equal(chart.failed[i], want.failed, `${customer}: chart failed = SUM(failed)`);
  });
  for (const customer of fromDb.keys()) {
    assert.ok(chart.labels.includes(customer), `${customer} (in the database) is charted`);
  }
  assert.ok(sum > 0, 'the seeded month is not empty');
  assert.equal(
      await page.textContent('#monthly-total'), new Intl.NumberFormat('en-US').format(sum));
  ok(`monthly chart ${month}: ${chart.labels.length} customers, ${sum} executions ` +
     '= API report = usage_daily sums');
  return report;
}

async function checkDailyChart(page, report) {
  // A server that is not selected yet, so choosing it redraws the chart.
  const current = await page.inputValue('#server-select');
  const server = seededServers.find((s) => s !== current && s !== 'unreachable-1');
  await page.selectOption('#server-select', server);
  await page.waitForSelector(
      `body[data-state="ready"] #daily[data-loaded-server="${server}"]`, {timeout: kTimeoutMs});
  const chart = await page.evaluate(() => {
    const c = window.fleetCharts.daily;
    return {
      labels: c.data.labels,
      sets: c.data.datasets.map((d) => ({label: d.label, data: d.data})),
    };
  });
  const pulled = chart.sets.find((d) => d.label === 'executions (pull)');
  assert.ok(pulled, 'the daily chart has the pulled executions');
  const rows = sql(`SELECT day, total FROM usage_daily WHERE server_name = '${server}'
                    AND source = 'pull' AND day BETWEEN '${report.from}' AND '${report.to}'`);
  const byDay = new Map(rows.map((r) => [r.day, r.total]));
  assert.equal(chart.labels[0], report.from);
  assert.equal(chart.labels[chart.labels.length - 1], report.to);
  chart.labels.forEach((day, i) => {
    assert.equal(pulled.data[i], byDay.has(day) ? byDay.get(day) : null, `${server} on ${day}`);
  });
  assert.equal(rows.length, chart.labels.length, 'every day of the month was collected');
  ok(`daily chart of ${server}: ${rows.length} days equal usage_daily`);
}

async function checkCsvDownload(page) {
  const [download] = await Promise.all([
    page.waitForEvent('download', {timeout: kTimeoutMs}),
    page.click('#csv-download'),
  ]);
  const saved = path.join(artefacts, download.suggestedFilename());
  await download.saveAs(saved);
  const res = await api(`/api/v1/reports/monthly?month=${month}&by=customer`, {accept: 'text/csv'});
  assert.equal(res.status, 200);
  assert.ok((res.headers.get('content-type') || '').startsWith('text/csv'), 'a CSV answer');
  const want = Buffer.from(await res.arrayBuffer());
  const got = fs.readFileSync(saved);
  assert.ok(
      want.length > 0 && want.toString('utf8').startsWith('group,customer,'),
      'the API CSV has its header');
  assert.ok(got.equals(want), `downloaded ${got.length} bytes, API sent ${want.length}: differ`);
  assert.equal(download.suggestedFilename(), `fleet-usage-${month}-by-customer.csv`);
  ok(`CSV download ${download.suggestedFilename()}: ${got.length} bytes identical to the API's`);
}

async function main() {
  fs.mkdirSync(artefacts, {recursive: true});
  const userData = env('DASHBOARD_USER_DATA');
  fs.mkdirSync(userData, {recursive: true});
  const context = await chromium.launchPersistentContext(userData, {
    executablePath: env('CHROMIUM'),
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'
    ],
    acceptDownloads: true,
    viewport: {width: 1400, height: 1000},
    timeout: 60000,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(kTimeoutMs);
  const outside = [];
  const pageErrors = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(base + '/') && !url.startsWith('blob:') && !url.startsWith('data:')) {
      outside.push(url);
    }
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  try {
    await checkWrongToken(page);
    await checkOverview(page);
    const report = await checkMonthlyChart(page);
    await checkDailyChart(page, report);
    await checkCsvDownload(page);
    assert.deepEqual(outside, [], 'the page requested nothing outside the service');
    assert.deepEqual(pageErrors, [], 'no script errors');
    await page.screenshot({path: path.join(artefacts, 'dashboard.png'), fullPage: true});
    ok(`screenshot ${path.join(artefacts, 'dashboard.png')}`);
  } catch (e) {
    await page.screenshot({path: path.join(artefacts, 'dashboard-failure.png'), fullPage: true})
        .catch(() => {});
    throw e;
  } finally {
    await context.close();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`not ok - ${e.stack || e}`);
  process.exit(1);
});
