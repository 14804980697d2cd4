// Browser test of the web UI: walks the Contoso Coffee lab (seed 000) the way a
// marketer would, in headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core, against a real `cdp serve`.
//
//   CDP_BIN=build/release/cdp node --test web/tests/
//
// Environment:
//   CDP_BIN            the cdp binary (default: build/release/cdp, then build/test/cdp)
//   CDP_UI_DIR         the built UI (default: web/dist; build it with scripts/build-ui.sh)
//   CDP_UI_WORKSPACE   an existing demo workspace to copy (default: a small one is generated)
//   CDP_UI_SCREENSHOTS where screenshots go (default: build/test/ui-screenshots)
//   CHROMIUM           the browser (default: /usr/bin/chromium)
// Builds nothing itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const CDP = path.resolve(
  process.env.CDP_BIN ??
    ['build/release/cdp', 'build/test/cdp'].map((p) => path.join(REPO, p)).find((p) => fs.existsSync(p)) ??
    'cdp',
);
const UI_DIR = path.resolve(process.env.CDP_UI_DIR ?? path.join(REPO, 'web/dist'));
const SHOTS = path.resolve(process.env.CDP_UI_SCREENSHOTS ?? path.join(REPO, 'build/test/ui-screenshots'));
const BROWSER = process.env.CHROMIUM ?? '/usr/bin/chromium';
const STEP_TIMEOUT = 60_000;

async function cdp(args, opts = {}) {
  const { stdout } = await run(CDP, args, { maxBuffer: 64 << 20, timeout: 600_000, ...opts });
  return stdout;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A demo workspace: the lab's sources and project, without its segments (the test creates them). */
async function makeWorkspace(root) {
  const ws = path.join(root, 'workspace');
  if (process.env.CDP_UI_WORKSPACE) {
    fs.cpSync(process.env.CDP_UI_WORKSPACE, ws, { recursive: true });
    return ws;
  }
  await cdp(['demo', 'generate', '--customers', '800', '--seed', '42', '--out', path.join(root, 'sources')]);
  const yaml = fs.readFileSync(path.join(REPO, 'examples/contoso/project.yaml'), 'utf8');
  // Drop the top-level `segments:` block: the lab creates them through the UI.
  const lines = yaml.split('\n');
  const out = [];
  let skipping = false;
  for (const line of lines) {
    if (/^segments:/.test(line)) skipping = true;
    else if (skipping && /^[A-Za-z]/.test(line)) skipping = false;
    if (!skipping) out.push(line);
  }
  // The demo's connections (not its exports: they name segments the walk creates later).
  const activation = fs.readFileSync(path.join(REPO, 'examples/contoso/exports.yaml'), 'utf8').split('\n');
  const connections = [];
  let inConnections = false;
  for (const line of activation) {
    if (/^connections:/.test(line)) inConnections = true;
    else if (inConnections && /^[A-Za-z]/.test(line)) inConnections = false;
    if (inConnections) connections.push(line);
  }
  assert.ok(connections.length > 1, 'examples/contoso/exports.yaml declares connections');
  out.push(...connections);
  // The demo's enrichments (brand and category affinities, engagement).
  out.push(...fs.readFileSync(path.join(REPO, 'examples/contoso/enrichments.yaml'), 'utf8').split('\n'));
  fs.writeFileSync(path.join(root, 'project.yaml'), out.join('\n'));
  await cdp(['init', ws]);
  await cdp(['apply', '-w', ws, path.join(root, 'project.yaml')]);
  await cdp(['run', '-w', ws]);
  return ws;
}

class Api {
  constructor(base, key) {
    this.base = base;
    this.key = key;
  }
  async call(method, p, body) {
    const res = await fetch(`${this.base}/api/v1/${p}`, {
      method,
      headers: { Authorization: `Bearer ${this.key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }
  async get(p) {
    const r = await this.call('GET', p);
    assert.ok(r.status < 300, `GET ${p}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }
  /** Waits until a segment has been evaluated and returns its member count. */
  async members(name) {
    for (let i = 0; i < 120; i++) {
      const r = await this.call('GET', `segments/${encodeURIComponent(name)}`);
      if (r.status === 200 && r.json.members !== null && r.json.members !== undefined) {
        const health = await this.call('GET', 'health');
        if (!health.json?.refresh_running) return r.json.members;
      }
      await sleep(500);
    }
    throw new Error(`segment ${name} was never evaluated`);
  }
}

/** "Jonathan" -> "Jontahan": swaps two inner letters (a typo the search must tolerate). */
function misspell(word) {
  if (word.length < 5) return word + word[word.length - 1];
  const i = Math.floor(word.length / 2);
  return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
}

test('web UI walks the Contoso Coffee lab', { timeout: 900_000 }, async (t) => {
  const help = await run(CDP, ['--help']).then((r) => r.stdout, (e) => `${e.stdout ?? ''}`);
  assert.match(help, /^\s*serve\b/m, `${CDP} has no serve command`);
  assert.ok(fs.existsSync(path.join(UI_DIR, 'index.html')), `no built UI in ${UI_DIR}: run scripts/build-ui.sh`);
  assert.ok(fs.existsSync(BROWSER), `no browser at ${BROWSER}: apt-get install chromium`);
  fs.mkdirSync(SHOTS, { recursive: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cdp-ui-test-'));
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdp-ui-chromium-'));
  let server;
  let context;
  const serverLog = [];
  try {
    const ws = await makeWorkspace(root);
    const admin = JSON.parse(await cdp(['apikey', 'create', '--role', 'admin', '--name', 'ui-test-admin', '--json', '-w', ws]));
    const viewer = JSON.parse(await cdp(['apikey', 'create', '--role', 'viewer', '--name', 'ui-test-viewer', '--json', '-w', ws]));
    assert.ok(admin.key && viewer.key, 'cdp apikey create --json prints {id,name,role,key}');

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = spawn(CDP, ['serve', '-w', ws, '--host', '127.0.0.1', '--port', String(port), '--ui-dir', UI_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout.on('data', (d) => serverLog.push(String(d)));
    server.stderr.on('data', (d) => serverLog.push(String(d)));
    let up = false;
    for (let i = 0; i < 240 && !up; i++) {
      if (server.exitCode !== null) break;
      try {
        up = (await fetch(`${base}/api/v1/health`)).ok;
      } catch {
        await sleep(250);
      }
    }
    assert.ok(up, `cdp serve did not come up:\n${serverLog.join('')}`);
    const api = new Api(base, admin.key);

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: BROWSER,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    context.setDefaultTimeout(STEP_TIMEOUT);
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('dialog', (d) => d.accept());
    const shot = async (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    const goto = async (hash) => {
      await page.goto(`${base}/#/${hash}`);
    };
    const signIn = async (key) => {
      await page.goto(`${base}/`);
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
    };
    const expectMembers = async (name, want) => {
      const loc = page.getByTestId('segment-members');
      await page.waitForFunction(
        ([w]) => document.querySelector('[data-testid=segment-members]')?.textContent?.replace(/,/g, '') === String(w),
        [want],
        { timeout: STEP_TIMEOUT },
      );
      assert.equal((await loc.textContent()).replace(/,/g, ''), String(want), `${name} members shown`);
    };

    await t.test('login screen takes the API key', async () => {
      await page.goto(`${base}/`);
      await page.getByLabel('API key').waitFor();
      await shot('00-login');
      await page.getByLabel('API key').fill('not-a-key');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor();
      await signIn(admin.key);
      assert.match(await page.getByTestId('whoami').textContent(), /admin/);
      const stored = await page.evaluate(() => sessionStorage.getItem('cdp.apiKey'));
      assert.equal(stored, admin.key);
    });

    await t.test('quick segment from profiles: CustomersFromCalifornia', async () => {
      await goto('segments');
      await page.getByRole('link', { name: 'Create from profiles' }).click();
      await page.getByLabel('Field', { exact: true }).selectOption('State');
      await page.getByLabel('Operator', { exact: true }).selectOption('equals');
      await page.getByLabel('Value', { exact: true }).fill('California');
      await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid=quick-estimate]')?.textContent ?? ''));
      // The operator menu is the server's table (GET segment-operators), labels included.
      const ops = await api.get('segment-operators');
      const menu = await page.getByLabel('Operator', { exact: true }).locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]).filter(([v]) => v));
      const want = ops.operators.filter((o) => o.offered.includes('text')).map((o) => [o.name, o.labels.text]);
      assert.deepEqual(menu, want, 'text operators as the server lists them');
      await page.getByRole('button', { name: 'Review' }).click();
      // A name with spaces is refused, naming the field and the rule (it was saved as a draft).
      await page.getByLabel('Output entity name').fill('Customers From California');
      await page.getByRole('button', { name: 'Save' }).click();
      const refused = page.getByRole('alert').filter({ hasText: "field 'name'" });
      await refused.waitFor();
      assert.match(await refused.textContent(), /letters, digits and _/);
      assert.equal((await api.call('GET', 'segments/Customers%20From%20California')).status, 404, 'nothing saved');
      await page.getByLabel('Output entity name').fill('CustomersFromCalifornia');
      await shot('10-segment-quick-profile');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/#\/segments\/CustomersFromCalifornia$/);
      const n = await api.members('CustomersFromCalifornia');
      assert.ok(n > 0, 'California has members');
      await expectMembers('CustomersFromCalifornia', n);
    });

    await t.test('quick segment from measures: HighValueOnlineCustomers (AverageWebPurchase > 138)', async () => {
      await goto('segments');
      await page.getByRole('link', { name: 'Create from measures' }).click();
      await page.getByLabel('Measure', { exact: true }).selectOption('AverageWebPurchase');
      await page.getByLabel('Operator', { exact: true }).selectOption('greater');
      await page.getByLabel('Value', { exact: true }).fill('138');
      await page.getByRole('button', { name: 'Review' }).click();
      await page.getByLabel('Output entity name').fill('HighValueOnlineCustomers');
      await page.getByLabel('Display name').fill('High Value Online Customers');
      await shot('11-segment-quick-measure');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/#\/segments\/HighValueOnlineCustomers$/);
      const n = await api.members('HighValueOnlineCustomers');
      await expectMembers('HighValueOnlineCustomers', n);
    });

    await t.test('builder: SummerPromo with an estimate while editing', async () => {
      await goto('segments/new');
      await page.getByLabel('Name (output entity)').fill('SummerPromo');
      await page.getByLabel('Display name').fill('Summer Promotion');
      await page.getByLabel('Type', { exact: true }).selectOption('dynamic');
      await page.getByLabel('Rule 1 entity').selectOption('Customer_Measure');
      await page.getByLabel('Rule 1 condition 1 field').selectOption('AverageStorePurchase');
      await page.getByLabel('Rule 1 condition 1 operator').selectOption('greater_equal');
      await page.getByLabel('Rule 1 condition 1 value').fill('113');
      await page.getByRole('button', { name: '+ AND condition' }).click();
      await page.getByLabel('Rule 1 condition 2 entity').selectOption('Customer');
      await page.getByLabel('Rule 1 condition 2 field').selectOption('DateOfBirth');
      await page.getByLabel('Rule 1 condition 2 operator').selectOption('on_or_after');
      await page.getByLabel('Rule 1 condition 2 value').fill('1981-01-01');
      await page.getByRole('button', { name: '+ AND condition' }).click();
      await page.getByLabel('Rule 1 condition 3 entity').selectOption('Customer');
      await page.getByLabel('Rule 1 condition 3 field').selectOption('DateOfBirth');
      await page.getByLabel('Rule 1 condition 3 operator').selectOption('on_or_before');
      await page.getByLabel('Rule 1 condition 3 value').fill('1996-12-31');
      const def = {
        name: 'SummerPromo',
        type: 'dynamic',
        rules: [
          {
            entity: 'Customer_Measure',
            conditions: [
              { field: 'AverageStorePurchase', op: 'greater_equal', values: [113] },
              { entity: 'Customer', field: 'DateOfBirth', op: 'on_or_after', values: ['1981-01-01'] },
              { entity: 'Customer', field: 'DateOfBirth', op: 'on_or_before', values: ['1996-12-31'] },
            ],
          },
        ],
      };
      const est = await api.call('POST', 'segments/estimate', def);
      assert.equal(est.status, 200, JSON.stringify(est.json));
      await page.waitForFunction(
        ([w]) => document.querySelector('[data-testid=estimate]')?.textContent?.replace(/,/g, '') === String(w),
        [est.json.members],
      );
      await shot('12-segment-builder');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.waitForURL(/#\/segments\/SummerPromo$/);
      const n = await api.members('SummerPromo');
      assert.equal(n, est.json.members, 'saved count = estimate');
      await expectMembers('SummerPromo', n);
    });

    await t.test('a draft shows its problems', async () => {
      await goto('segments/new');
      await page.getByLabel('Name (output entity)').fill('DraftWithProblems');
      await page.getByLabel('Rule 1 condition 1 field').selectOption('State');
      // no operator chosen: the estimate lists the problem
      await page.getByTestId('problems').waitFor();
      await shot('13-segment-builder-problems');
    });

    await t.test('home shows a tile per segment with the API counts', async () => {
      await goto('home');
      for (const name of ['CustomersFromCalifornia', 'HighValueOnlineCustomers', 'SummerPromo']) {
        const want = (await api.get(`segments/${name}`)).members;
        const tile = page.getByTestId(`home-seg-${name}`);
        await tile.waitFor();
        assert.equal((await tile.getByTestId('members').textContent()).replace(/,/g, ''), String(want), `${name} tile`);
      }
      // Tiles show display names where a segment has one.
      assert.match(await page.getByTestId('home-seg-HighValueOnlineCustomers').textContent(), /High Value Online Customers/);
      assert.match(await page.getByTestId('home-seg-SummerPromo').textContent(), /Summer Promotion/);
      const ov = await api.get('overview');
      assert.equal((await page.getByTestId('tile-customers').locator('.tile-value').textContent()).replace(/,/g, ''), String(ov.customers));
      // Each tile's growth since last week is the API's (segment-growth).
      const growth = (await api.get('segment-growth')).items;
      for (const name of ['CustomersFromCalifornia', 'HighValueOnlineCustomers', 'SummerPromo']) {
        const g = growth.find((x) => x.name === name);
        assert.ok(g, `segment-growth lists ${name}: ${JSON.stringify(growth)}`);
        const want = g.change === null || g.change === undefined ? 'no count a week old' : `${g.change > 0 ? '▲' : g.change < 0 ? '▼' : '='} ${Math.abs(g.change).toLocaleString('en-US')}`;
        const shown = page.getByTestId(`growth-${name}`);
        await shown.waitFor();
        assert.equal((await shown.textContent()).trim(), want, `${name} growth`);
      }
      await shot('01-home');
    });

    await t.test('segment page: history, counts per rule, members, CSV download', async () => {
      await goto('segments');
      await page.getByTestId('segments-table').waitFor();
      await shot('14-segments-list');
      await page.getByRole('link', { name: 'CustomersFromCalifornia', exact: true }).click();
      const want = await api.members('CustomersFromCalifornia');
      await expectMembers('CustomersFromCalifornia', want);
      await page.getByRole('heading', { name: 'Members over time' }).waitFor();
      await page.locator('section[aria-labelledby=hist-h] canvas').waitFor();
      await page.getByTestId('segment-members-table').waitFor();
      const rows = await page.getByTestId('segment-members-table').locator('tbody tr').count();
      assert.equal(rows, Math.min(100, want), 'first 100 members previewed');
      await page.getByTestId('rule-counts').waitFor();
      await shot('15-segment-page');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download members (CSV)' }).click()]);
      const file = path.join(root, 'members.csv');
      await download.saveAs(file);
      const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
      assert.ok(lines.length >= want + 1, `CSV has a header and ${want} members (got ${lines.length} lines)`);
      assert.match(lines[0], /CustomerId/);
    });

    await t.test('exports: create one from a segment page, run it, read its history', async () => {
      const connections = (await api.get('connections')).items;
      const files = connections.find((c) => c.kind === 'files');
      assert.ok(files, `the lab project declares a files connection: ${JSON.stringify(connections)}`);
      assert.ok(
        connections.every((c) => !JSON.stringify(c).includes('"value"')),
        'connections never carry secret values',
      );
      await goto('segments/CustomersFromCalifornia');
      await page.getByRole('link', { name: 'Export to a connection' }).click();
      await page.getByRole('heading', { name: 'New export' }).waitFor();
      // The form names the segment once the segment list has loaded into the select.
      await page.getByLabel('Segment').locator('option[value="CustomersFromCalifornia"]').waitFor({ state: 'attached' });
      assert.equal(await page.getByLabel('Segment').inputValue(), 'CustomersFromCalifornia');
      await page.getByLabel('Name').fill('CaliforniaToFiles');
      await page.getByLabel('Connection').locator(`option[value="${files.name}"]`).waitFor({ state: 'attached' });
      await page.getByLabel('Connection').selectOption(files.name);
      await shot('16-export-new');
      await page.getByRole('button', { name: 'Create export' }).click();
      await page.getByRole('heading', { name: 'Export CaliforniaToFiles' }).waitFor();
      await page.getByRole('button', { name: 'Run now', exact: true }).click();
      const want = await api.members('CustomersFromCalifornia');
      const history = page.getByTestId('export-history');
      await history.locator('tbody tr').first().waitFor();
      const runs = (await api.get('exports/CaliforniaToFiles/history')).items;
      assert.equal(runs[0].status, 'succeeded', JSON.stringify(runs[0]));
      assert.equal(runs[0].rows_sent, want, 'every member sent on the first run');
      assert.match(await history.locator('tbody tr').first().textContent(), /succeeded/);
      await page.waitForFunction(
        (n) => (document.querySelector('[data-testid=export-state-rows] .tile-value')?.textContent ?? '').replace(/,/g, '') === String(n),
        want,
      );
      await shot('17-export-page');
      // The list shows it with its last run; a second run sends no change.
      await goto('exports');
      await page.getByTestId('exports-table').getByRole('link', { name: 'CaliforniaToFiles' }).waitFor();
      await page.getByRole('button', { name: 'Run CaliforniaToFiles now' }).click();
      await page.getByTestId('export-run-result').waitFor();
      assert.match(await page.getByTestId('export-run-result').textContent(), /succeeded — 0 row\(s\) sent/);
      await shot('18-exports');
    });

    await t.test('segment insights: overlap, differentiators, trend, deactivate and activate', async () => {
      const name = 'HighValueOnlineCustomers';
      await goto(`segments/${name}/insights`);
      await page.getByTestId('segment-insights').waitFor();
      // Overlap with two other segments: the Venn, and every pair's shared count is the API's.
      const pick = page.getByTestId('overlap-pick');
      for (const other of ['CustomersFromCalifornia', 'SummerPromo']) {
        await pick.getByLabel(other, { exact: true }).waitFor();
        await pick.getByLabel(other, { exact: true }).check();
      }
      await page.getByRole('button', { name: 'Show overlap' }).click();
      await page.getByTestId('overlap-venn').waitFor();
      const o = await api.call('POST', 'insights/overlap', { segments: [name, 'CustomersFromCalifornia', 'SummerPromo'] });
      assert.equal(o.status, 200, JSON.stringify(o.json));
      const segName = (x) => (typeof x === 'number' ? o.json.segments[x].name : x);
      assert.equal(o.json.pairs.length, 3);
      for (const p of o.json.pairs) {
        const a = p.a_name ?? segName(p.a);
        const b = p.b_name ?? segName(p.b);
        assert.equal((await page.getByTestId(`overlap-shared-${a}-${b}`).textContent()).replace(/,/g, ''), String(p.shared), `${a} and ${b} share`);
      }
      const all = o.json.all_shared ?? o.json.shared_by_all;
      assert.equal((await page.getByTestId('overlap-all-shared').textContent()).replace(/,/g, ''), String(all));
      const diagonal = await page.getByTestId('overlap-matrix').locator('tbody tr').first().locator('td').first().textContent();
      assert.equal(diagonal.replace(/,/g, ''), String(o.json.matrix[0][0]), 'the matrix diagonal is the members');
      await shot('19-segment-overlap');
      // Differentiators against all customers: the ranking is the API's; a click shows both distributions.
      const d = await api.get(`segments/${name}/differentiators?limit=30`);
      assert.ok(d.attributes.length > 0, 'the segment has differentiators');
      const first = d.attributes[0].attribute ?? d.attributes[0].name;
      const items = page.getByTestId('differentiators').locator('.ranked-name');
      await items.first().waitFor();
      assert.equal(await items.count(), d.attributes.length);
      assert.equal(await items.first().textContent(), first);
      await page.getByTestId('diff-distribution').locator('canvas').waitFor();
      if (d.attributes.length > 1) {
        const second = d.attributes[1].attribute ?? d.attributes[1].name;
        await items.nth(1).click();
        await page.getByTestId('diff-distribution').getByRole('heading', { name: new RegExp(`^${second.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).waitFor();
      }
      await shot('19-segment-differentiators');
      // The trend over a year: as many counts as the API has.
      await page.getByLabel('Time scope').selectOption('365');
      const trend = await api.get(`segments/${name}/trend?days=365`);
      await page.waitForFunction((n) => (document.querySelector('[data-testid=trend-points]')?.textContent ?? '').startsWith(`${n} count`), trend.points.length);
      if (trend.points.length) await page.getByTestId('trend-chart').locator('canvas').waitFor();
      // Deactivate, then activate again (a dynamic segment).
      const badge = page.getByTestId('segment-active');
      await badge.filter({ hasText: /^active$/ }).waitFor();
      await page.getByRole('button', { name: 'Deactivate', exact: true }).click();
      await badge.filter({ hasText: 'deactivated' }).waitFor();
      assert.equal((await api.get('segment-growth')).items.find((g) => g.name === name).active, false);
      await shot('19-segment-deactivated');
      await page.getByRole('button', { name: 'Activate', exact: true }).click();
      await badge.filter({ hasText: /^active$/ }).waitFor();
      assert.equal((await api.get('segment-growth')).items.find((g) => g.name === name).active, true);
    });

    await t.test('find similar customers: preview the model, save the expansion segment', async () => {
      const source = 'HighValueOnlineCustomers';
      await goto(`segments/${source}/insights`);
      await page.getByRole('link', { name: 'Find similar customers' }).click();
      await page.getByRole('heading', { name: `Find customers similar to ${source}` }).waitFor();
      await page.getByLabel('Share of the pool (%)').fill('10');
      await page.getByLabel('New segment name').fill('WalkSimilar');
      await page.getByRole('button', { name: 'Preview' }).click();
      await page.getByTestId('similar-preview').waitFor({ timeout: 300_000 });
      // The same request previewed through the API (the model is seeded: the same answer).
      const want = await api.call('POST', 'insights/expand', { source, output: 'WalkSimilar', include_source: false, save: false, share: 0.1 });
      assert.equal(want.status, 200, JSON.stringify(want.json));
      assert.equal((await page.getByTestId('similar-members').textContent()).replace(/,/g, ''), String(want.json.members));
      assert.equal(await page.getByTestId('similar-auc').textContent(), Number(want.json.quality.auc).toFixed(3));
      assert.match(await page.getByTestId('similar-verdict').textContent(), /AUC/);
      await page.getByTestId('similar-bands').locator('canvas').waitFor();
      await page.getByTestId('similar-drivers').locator('canvas').waitFor();
      await shot('23-find-similar');
      assert.equal((await api.call('GET', 'segments/WalkSimilar')).status, 404, 'a preview saves nothing');
      await page.getByRole('button', { name: 'Save as segment' }).click();
      await page.waitForURL(/#\/segments\/WalkSimilar$/, { timeout: 300_000 });
      const seg = await api.get('segments/WalkSimilar');
      assert.equal(seg.type, 'expansion');
      await expectMembers('WalkSimilar', await api.members('WalkSimilar'));
      assert.equal(await api.members('WalkSimilar'), want.json.members, 'the saved segment has the previewed size');
    });

    await t.test('suggested segments for a target, saved as a segment; RFM groups', async () => {
      const attrs = await api.get('insights/attributes');
      const list = Array.isArray(attrs) ? attrs : attrs.attributes ?? attrs.items;
      const target = list.find((a) => /LifetimeSpend/.test(a.name) && a.kind === 'numeric');
      assert.ok(target, `LifetimeSpend is a numeric attribute: ${JSON.stringify(list.map((a) => a.name))}`);
      await goto('segments');
      await page.getByRole('link', { name: 'Suggested segments' }).click();
      await page.getByRole('heading', { name: 'Insights', exact: true }).waitFor();
      await page.getByLabel('Target', { exact: true }).locator(`option[value="${target.name}"]`).waitFor({ state: 'attached' });
      await page.getByLabel('Target', { exact: true }).selectOption(target.name);
      await page.getByRole('button', { name: 'Suggest segments' }).click();
      await page.getByTestId('suggest-count').waitFor({ timeout: 300_000 });
      const want = await api.call('POST', 'insights/suggest', { target: target.name, min_lift: 1.2, min_share: 0.01, max_suggestions: 10 });
      assert.equal(want.status, 200, JSON.stringify(want.json));
      assert.equal(await page.getByTestId('suggest-count').textContent(), String(want.json.suggestions.length));
      await shot('24-suggested-segments');
      if (want.json.suggestions.length) {
        const card = page.getByTestId('suggestion-0');
        assert.equal(await card.getByTestId('suggestion-rules').textContent(), want.json.suggestions[0].rules_text);
        assert.equal((await card.getByTestId('suggestion-size').textContent()).split(' ')[0].replace(/,/g, ''), String(want.json.suggestions[0].size));
        await card.getByLabel('Segment name').fill('WalkSuggested');
        await card.getByRole('button', { name: 'Save as segment' }).click();
        await page.waitForURL(/#\/segments\/WalkSuggested$/);
        assert.equal(await api.members('WalkSuggested'), want.json.suggestions[0].size, 'the saved rules select the suggested group');
        await expectMembers('WalkSuggested', want.json.suggestions[0].size);
      }
      await goto('insights/rfm');
      const rfm = await api.get('insights/rfm');
      await page.getByTestId('rfm-groups').waitFor();
      assert.equal(await page.getByTestId('rfm-groups').locator('section').count(), rfm.groups.length);
      for (const g of rfm.groups) {
        assert.equal((await page.getByTestId(`rfm-${g.key ?? g.name}`).getByTestId('rfm-size').textContent()).replace(/,/g, ''), String(g.size), g.name);
      }
      await shot('25-rfm');
      // The demo project has no transaction count over both purchase activities.
      assert.ok(rfm.measures_to_add, 'the RFM groups list the measures their rules need');
      {
        // Adding the measures RFM segments need makes every non-empty group savable, and a saved group's rules select it.
        await page.getByTestId('rfm-measures-to-add').getByRole('button', { name: 'Add these measures' }).click();
        await page.getByTestId('rfm-measures').waitFor();
        const after = await api.get('insights/rfm');
        assert.equal(after.measures_to_add, undefined);
        const group = after.groups.find((g) => g.definition && g.size > 0);
        assert.ok(group, 'a group with a definition');
        const card = page.getByTestId(`rfm-${group.key ?? group.name}`);
        await card.getByLabel('Segment name').fill('WalkRfm');
        await card.getByRole('button', { name: 'Save as segment' }).click();
        await page.waitForURL(/#\/segments\/WalkRfm$/);
        assert.equal(await api.members('WalkRfm'), group.size, 'the saved RFM rules select the group');
      }
    });

    await t.test('enrichments: run them, a card shows affinities and engagement', async () => {
      const enrichments = (await api.get('enrichments')).items;
      await goto('insights/enrichments');
      await page.getByTestId('enrichments-table').or(page.getByText('The project has no enrichments')).first().waitFor();
      if (!enrichments.length) {
        await shot('26-enrichments');
        return;
      }
      await page.getByRole('button', { name: 'Run enrichments now' }).click();
      await page.getByRole('status').filter({ hasText: /^Ran / }).waitFor({ timeout: 300_000 });
      await shot('26-enrichments');
      // A customer with an engagement score (or any enrichment value): the card shows the API's values.
      const members = await api.get('segments/HighValueOnlineCustomers/members?limit=20');
      let shown = false;
      for (const m of members.items) {
        const card = await api.get(`customers/${m.CustomerId}/card`);
        if (!card.enrichments?.length) continue;
        await goto(`customers/${m.CustomerId}`);
        await page.getByTestId('card-enrichments').waitFor();
        for (const e of card.enrichments) {
          const box = page.getByTestId(`card-enrichment-${e.name}`);
          await box.waitFor();
          if (Array.isArray(e.values)) {
            assert.equal(await box.getByTestId('affinity').count(), e.values.length, `${e.name} affinities`);
          } else if (e.values && 'EngagementScore' in e.values) {
            assert.equal(await box.getByTestId('card-engagement-score').textContent(), Math.round(e.values.EngagementScore).toLocaleString('en-US'));
            assert.equal(await box.getByTestId('card-engagement-level').textContent(), String(e.values.EngagementLevel));
          }
        }
        await shot('27-customer-card-enrichments');
        shown = true;
        break;
      }
      assert.ok(shown, 'a customer of the segment has enrichment values');
    });

    let someone;
    await t.test('customers: search by a misspelled name, open the card', async () => {
      const members = await api.get('segments/CustomersFromCalifornia/members?limit=50');
      someone = members.items.find((p) => p.FirstName && p.LastName && p.LastName.length >= 5) ?? members.items[0];
      const q = `${someone.FirstName} ${misspell(someone.LastName)}`;
      await goto('customers');
      await page.getByLabel('Search customers (name, email, phone, …)').fill(q);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByTestId('search-total').waitFor();
      const link = page.getByTestId('search-results').getByRole('link', { name: String(someone.CustomerId), exact: true });
      await link.waitFor();
      await shot('20-customer-search');
      await link.click();
      await page.getByTestId('card-title').waitFor();
      await page.getByRole('heading', { name: 'Activity timeline' }).waitFor();
      await page.getByRole('heading', { name: 'Source records' }).waitFor();
      await shot('21-customer-card');
    });

    await t.test('customers: filter by an enrichment (brand affinity), counts as the API gives them', async () => {
      const field = 'Enrichment_BrandAffinity.Value';
      const all = await api.get('customers/search?limit=1');
      const brands = all.facets[field];
      assert.ok(brands?.length, `the brand affinities are a search filter: ${Object.keys(all.facets)}`);
      const brand = brands[0];
      await goto('customers');
      const facet = page.getByTestId(`facet-${field}`);
      await facet.waitFor();
      assert.equal((await facet.locator('legend').textContent()).trim(), 'Brand Affinity');
      await facet.getByLabel(`${brand.value} (${brand.count.toLocaleString('en-US')})`).check();
      await page.waitForFunction(
        (n) => document.querySelector('[data-testid=search-total]')?.textContent?.startsWith(n),
        brand.count.toLocaleString('en-US') + ' customer',
      );
      const filtered = await api.get(`customers/search?limit=1&filter=${encodeURIComponent(`${field}:${brand.value}`)}`);
      assert.equal(filtered.total, brand.count);
      await page.getByRole('button', { name: `Remove filter ${field}:${brand.value}` }).waitFor();
      await shot('22-customer-search-enrichment-filter');
    });

    await t.test('predictions: create a churn model from the form, train it, read its grade, charts and scores, open a card', async () => {
      const activities = (await api.get('activities')).items.map((a) => a.name);
      assert.ok(activities.includes('OnlinePurchase') && activities.includes('StorePurchase'), `the lab's purchases: ${activities}`);
      await goto('predictions');
      await page.getByRole('heading', { name: 'Predictions', exact: true }).waitFor();
      await page.getByRole('link', { name: 'New prediction' }).click();
      await page.getByRole('heading', { name: 'New prediction' }).waitFor();
      await page.getByLabel('Name (output entity Prediction_name)').fill('WalkChurn');
      await page.getByLabel('Kind', { exact: true }).selectOption('transactional_churn');
      // The activities load into the form's checkboxes: wait for them before choosing.
      const box = page.getByTestId('prediction-activities');
      await box.getByLabel('OnlinePurchase', { exact: true }).waitFor();
      await box.getByLabel('OnlinePurchase', { exact: true }).check();
      await box.getByLabel('StorePurchase', { exact: true }).check();
      await page.getByLabel('Prediction window (days)').fill('90');
      await shot('70-prediction-new');
      await page.getByRole('button', { name: 'Create prediction' }).click();
      await page.getByRole('heading', { name: 'Prediction WalkChurn' }).waitFor();
      const made = await api.get('predictions/WalkChurn');
      assert.deepEqual(made.definition.activities, ['OnlinePurchase', 'StorePurchase']);
      assert.equal(made.definition.window_days, 90);
      // The readiness report, before training.
      const readiness = await api.get('predictions/WalkChurn/readiness');
      assert.ok(readiness.ready, `the lab's data are ready for churn: ${JSON.stringify(readiness.problems)}`);
      await page.getByTestId('readiness-verdict').filter({ hasText: 'ready' }).waitFor();
      await page.getByRole('button', { name: 'Train now' }).click();
      await page.getByTestId('prediction-run-result').waitFor({ timeout: 300_000 });
      const info = await api.get('predictions/WalkChurn');
      assert.ok(info.trained, 'trained');
      assert.match(info.grade, /^[ABC]$/);
      await page.waitForFunction((g) => document.querySelector('[data-testid=prediction-grade]')?.textContent === g, info.grade);
      await page.waitForFunction((g) => document.querySelector('[data-testid=evaluation-grade]')?.textContent === g, info.grade);
      // A chart for each of the evaluation's charts, the metrics beside the baseline's.
      const evaluation = await api.get('predictions/WalkChurn/evaluation');
      // The chart data: under "charts", or the model's own arrays under "evaluation".
      const chartData = evaluation.charts ?? evaluation.evaluation ?? {};
      const charts = Object.entries(chartData).filter(([, v]) => Array.isArray(v) && v.length && typeof v[0] === 'object');
      assert.ok(charts.length > 0, `the evaluation has charts: ${JSON.stringify(evaluation)}`);
      for (const [key] of charts) await page.getByTestId(`prediction-chart-${key}`).locator('canvas').waitFor();
      await page.getByTestId('evaluation-metrics').locator('tbody tr').first().waitFor();
      // The scores, paged (the range comes from the answer: wait for the second page's).
      const range = page.getByTestId('scores-range');
      await range.filter({ hasText: /^Customers 1–20 of / }).waitFor();
      assert.equal((await range.textContent()).replace(/.* of /, '').replace(/,/g, ''), String(info.scored_customers));
      await shot('71-prediction');
      await page.getByRole('navigation', { name: 'Scores pages' }).getByRole('button', { name: 'Next →' }).click();
      await range.filter({ hasText: /^Customers 21–/ }).waitFor();
      const second = await api.get('predictions/WalkChurn/scores?offset=20&limit=20');
      const id = String(second.rows[0][second.columns.indexOf('CustomerId')]);
      const link = page.getByTestId('prediction-scores').locator('tbody tr').first().getByRole('link', { name: `Customer ${id}`, exact: true });
      await link.waitFor();
      await link.click();
      // The card's Predictions section shows the customer's churn score.
      await page.getByTestId('card-title').waitFor();
      const mine = page.getByTestId('card-predictions').getByTestId('card-prediction-WalkChurn');
      await mine.waitFor();
      const card = await api.get(`customers/${id}/card`);
      const p = card.predictions.find((x) => x.name === 'WalkChurn');
      assert.ok(p, `the card's predictions name WalkChurn: ${JSON.stringify(card.predictions)}`);
      assert.equal(await mine.getByTestId('card-churn-score').textContent(), `${(p.values.ChurnScore * 100).toFixed(1)}%`);
      await shot('72-customer-card-predictions');
    });

    await t.test('explain a merge (customer card and unify page)', async () => {
      const pairs = await api.get('unification/pairs?limit=20');
      const pair = pairs.items.find((p) => p.customer_id !== null && p.customer_id !== undefined) ?? pairs.items[0];
      assert.ok(pair, 'the demo has match pairs');
      await goto(`customers/${pair.customer_id}`);
      await page.getByRole('button', { name: 'Explain merge' }).click();
      const ex = page.getByTestId('explain');
      await ex.getByRole('heading', { name: 'Match pairs' }).waitFor();
      await ex.getByRole('button', { name: 'Details' }).first().click();
      await ex.getByTestId('pair-explain').first().waitFor();
      await shot('22-customer-explain');
      await goto('unify');
      await page.getByTestId('pairs-table').waitFor();
      await page.getByTestId('pairs-table').getByRole('button', { name: 'Explain' }).first().click();
      await page.getByTestId('pair-explain').waitFor();
      assert.match(await page.getByTestId('pair-explain').textContent(), /match/i);
      // Accepted pairs per rule are counted (they showed 0 for every rule).
      const stats = await api.get('unification/stats');
      const accepted = stats.rules.reduce((n, r) => n + r.accepted, 0);
      assert.ok(accepted > 0, 'the demo has accepted pairs');
      const cells = await page.getByTestId('rule-stats').locator('tbody tr td:nth-child(3)').allTextContents();
      assert.equal(cells.reduce((n, c) => n + Number(c.replace(/,/g, '')), 0), accepted, 'accepted pairs shown');
      await shot('30-unify');
    });

    await t.test('the other pages render', async () => {
      for (const [hash, name, heading] of [
        ['data', '40-data', 'Sources'],
        ['data/eCommerce Contacts', '41-data-entity', 'Schema'],
        ['activities', '42-activities', 'Entities and relationships'],
        ['measures', '43-measures', 'Measures'],
        ['measures/AverageWebPurchase', '44-measure', 'Distribution'],
        ['predictions', '45-predictions', 'Predictions'],
        ['admin/runs', '50-admin-runs', 'Run history'],
        ['admin/schedules', '51-admin-schedules', 'Schedules'],
        ['admin/audit', '52-admin-audit', 'Audit log'],
      ]) {
        await goto(hash);
        await page.getByRole('heading', { name: heading, exact: true }).first().waitFor();
        await page.waitForLoadState('networkidle');
        await shot(name);
      }
      // An attribute measure's values are listed (the page showed a 404).
      await goto('measures/AverageWebPurchase');
      await page.getByTestId('measure-values').locator('tbody tr').first().waitFor();
      assert.equal(await page.getByRole('alert').count(), 0, 'no error on the measure page');
      // Schedules save (the page sent back the jobs it had read, which the PUT refuses).
      await goto('admin/schedules');
      const before = (await api.get('schedules')).refresh ?? '';
      // Wait for the page to show the stored schedules before editing them.
      for (let i = 0; i < 100 && (await page.getByLabel('Full refresh').inputValue()) !== before; i++) await sleep(100);
      await page.getByLabel('Full refresh').fill('0 3 1 1 *');
      await page.getByRole('button', { name: 'Save schedules' }).click();
      await page.getByText('Schedules saved.').waitFor();
      assert.equal((await api.get('schedules')).refresh, '0 3 1 1 *');
      const runs = await api.get('runs');
      if (runs.items?.length) {
        await goto(`admin/runs/${runs.items[0].id}`);
        await page.getByRole('heading', { name: `Run ${runs.items[0].id}` }).waitFor();
        await page.waitForLoadState('networkidle');
        await shot('53-admin-run');
      }
    });

    let created;
    await t.test('admin creates an API key', async () => {
      await goto('admin/apikeys');
      await page.getByLabel('Key name').fill('marketing-viewer');
      await page.getByLabel('Role').selectOption('viewer');
      await page.getByRole('button', { name: 'Create key' }).click();
      created = (await page.getByTestId('new-key-value').textContent()).trim();
      await shot('54-admin-apikeys');
      const me = await new Api(base, created).get('me');
      assert.equal(me.role, 'viewer');
      assert.equal(me.name, 'marketing-viewer');
    });

    await t.test('review queue and match weights (probabilistic mode)', async () => {
      // The lab's unification in probabilistic mode (bench/unify_accuracy's
      // configuration, with a wide review band), unified by the CLI.
      const exported = await cdp(['export-config', '-w', ws]);
      const prob = fs.readFileSync(path.join(REPO, 'bench/unify_accuracy/contoso_probabilistic.yaml'), 'utf8');
      const block = (text) => {
        const lines = text.split('\n');
        const start = lines.findIndex((l) => /^unification:/.test(l));
        let end = start + 1;
        while (end < lines.length && !/^[A-Za-z]/.test(lines[end])) end++;
        return { lines, start, end };
      };
      const e = block(exported);
      const u = block(prob);
      assert.ok(e.start >= 0 && u.start >= 0, 'both have a unification section');
      const unification = u.lines.slice(u.start, u.end).join('\n').replace(/^  probabilistic:\n/m, '  probabilistic:\n    review_min_probability: 0.01\n');
      const project = [...e.lines.slice(0, e.start), unification, ...e.lines.slice(e.end)].join('\n');
      const file = path.join(root, 'probabilistic.yaml');
      fs.writeFileSync(file, project);
      await cdp(['apply', '-w', ws, file]);
      await cdp(['unify', '-w', ws]);
      const queue = await api.get('unification/review?limit=1');
      assert.ok(queue.total > 0, `the probabilistic run leaves pairs to review: ${JSON.stringify(queue)}`);

      await goto('review');
      await page.getByRole('heading', { name: 'Review', exact: true }).waitFor();
      const count = page.getByTestId('review-count');
      await count.waitFor();
      const before = Number((await count.textContent()).replace(/\D/g, ''));
      assert.equal(before, queue.total, 'the counter is the queue size');
      const first = page.getByTestId('review-pair').first();
      await first.getByTestId('review-values').waitFor();
      await first.getByTestId('pair-explain').waitFor();
      assert.match(await first.getByTestId('pair-explain').textContent(), /weight/i, 'the explanation shows the model');
      await shot('32-review');
      const a = (await first.getAttribute('aria-label')).split(' and ')[0];
      await first.getByRole('button', { name: 'Accept' }).click();
      await page.getByRole('status').filter({ hasText: 'accepted' }).waitFor();
      await page.waitForFunction((n) => Number((document.querySelector('[data-testid=review-count]')?.textContent ?? '').replace(/\D/g, '')) === n, before - 1);
      const overrides = JSON.parse(await cdp(['override', 'list', '--json', '-w', ws]));
      assert.ok(overrides.some((o) => o.kind === 'always' && (o.a === a || o.b === a)), 'the accepted pair is an always override');
      // The queue is paged, ten pairs at a time (it showed the first ten only).
      assert.ok(before - 1 > 10, `the demo's review band leaves more than one page (${before - 1} pairs)`);
      await page.getByRole('navigation', { name: 'Review queue pages' }).getByRole('button', { name: 'Next →' }).click();
      await page.getByTestId('review-range').filter({ hasText: /^Pairs 11–/ }).waitFor();
      // The range comes from the answer, so the pairs shown are the second page's.
      const second = await api.get('unification/review?limit=10&offset=10');
      await page.getByRole('region', { name: `${second.items[0].a} and ${second.items[0].b}` }).waitFor();
      assert.equal(await page.getByTestId('review-pair').first().getAttribute('aria-label'), `${second.items[0].a} and ${second.items[0].b}`);

      // The Unify page charts the trained model's weights.
      await goto('unify');
      await page.getByTestId('model-chart').waitFor();
      const levels = await page.getByTestId('model-weights').locator('tbody tr').count();
      assert.ok(levels > 3, 'one row per comparison level');
      await shot('31-unify-model');
    });

    await t.test('a viewer is refused an edit', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(created ?? viewer.key);
      assert.match(await page.getByTestId('whoami').textContent(), /viewer/);
      await goto('segments/quick?from=profile');
      await page.getByLabel('Field', { exact: true }).selectOption('State');
      await page.getByLabel('Operator', { exact: true }).selectOption('equals');
      await page.getByLabel('Value', { exact: true }).fill('Texas');
      await page.getByRole('button', { name: 'Review' }).click();
      await page.getByLabel('Output entity name').fill('ViewerWasHere');
      await page.getByRole('button', { name: 'Save' }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'Not permitted' });
      await alert.waitFor();
      // The message names the permission needed, without the route's summary.
      assert.match(await alert.textContent(), /lacks the permission write_definitions \(role contributor or above\)/);
      await shot('55-viewer-refused');
      const r = await api.call('GET', 'segments/ViewerWasHere');
      assert.equal(r.status, 404, 'nothing was saved');
    });

    await t.test('narrow window', async () => {
      await page.setViewportSize({ width: 420, height: 900 });
      await goto('home');
      await page.getByRole('button', { name: 'Menu' }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Segments' }).click();
      await page.getByRole('heading', { name: 'Segments', exact: true }).waitFor();
      await shot('60-narrow-segments');
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    assert.deepEqual(consoleErrors, [], 'no uncaught errors in the page');
  } finally {
    if (context) await context.close().catch(() => {});
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    fs.rmSync(profileDir, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});
