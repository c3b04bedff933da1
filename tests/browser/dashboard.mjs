// The dashboard in a real browser: Debian's Chromium driven by playwright-core, checked
// against the API and by axe-core.
//
//   node dashboard.mjs <path to the verbund binary> [<screenshot folder>]
//
// Starts the server on an empty SQLite database (so with the demo data), signs in with a
// ministry token and with a state coordinator's token, and for each: compares the figures
// the page shows with what the API returns for the same token, checks that suppressed cells
// are shown as suppressed (never as 0), that no console error or request to another origin
// happens, that the page works at 1280 px and at phone width, by keyboard, in English, and
// that axe-core finds no serious or critical violation. Screenshots go to the folder.
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const bin = resolve(process.argv[2] ?? '../../target/debug/verbund');
const shots = resolve(process.argv[3] ?? process.env.VERBUND_SCREENSHOT_DIR ?? 'screenshots');
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

let failures = 0;
let checks = 0;
function check(ok, what) {
  checks += 1;
  if (!ok) {
    failures += 1;
    console.error(`FAIL ${what}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'verbund-dashboard-'));
const server = spawn(bin, ['serve', '--bind', '127.0.0.1:0'], {
  cwd: dir,
  env: { ...process.env, VERBUND_RATE_LIMIT__ENABLED: 'false', VERBUND_LOG: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise((ok, fail) => {
  let out = '';
  const timer = setTimeout(() => fail(new Error('the server did not start in 120 s')), 120_000);
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const m = out.match(/^listening on (\S+)/m);
    if (m) {
      clearTimeout(timer);
      ok(m[1]);
    }
  });
  server.on('exit', (code) => fail(new Error(`the server exited with ${code}`)));
});
const token = (...args) => execFileSync(bin, ['token', ...args], { cwd: dir }).toString().trim();

async function api(path, tok) {
  const r = await fetch(base + path, { headers: tok ? { authorization: `Bearer ${tok}` } : {} });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

const states = await api('/api/v1/networks?level=state&first=100');
const bavaria = states.items.find((n) => n.code === 'DE-BY');
const ministry = token('--role', 'ministry_analyst');
const coordinator = token('--role', 'state_coordinator', '--network', bavaria.id);

const browser = await chromium.launch({
  executablePath: browserPath,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});

/**
 * The figure a cell shows ("1.234" → 1234), or "suppressed" for the symbol; `cents` for an
 * amount shown in whole euros (the cell keeps the cents in `data-value`).
 */
async function shown(cell, cents = false) {
  const value = await cell.getAttribute('data-value');
  const visible = (await cell.locator('[aria-hidden="true"]').count())
    ? (await cell.locator('[aria-hidden="true"]').textContent()).trim()
    : (await cell.textContent()).trim();
  if (value === 'suppressed') return visible === '.' ? 'suppressed' : `suppressed but shown as ${visible}`;
  const digits = visible.replace(/[^0-9-]/g, '');
  const expected = cents ? String(Math.round(Number(value) / 100)) : value;
  return digits === expected ? Number(value) : `shown ${visible}, data ${value}`;
}

const exactly = (text) => new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
/** The row of a card's table whose heading is exactly `name`. */
const rowOf = (page, cardId, name) =>
  page.locator(`#${cardId} tbody tr`).filter({ has: page.locator('th', { hasText: exactly(name) }) });

/** Compares a card's table with an API statistic: one row per API row, same order of keys. */
async function compareTable(page, cardId, table, { amount = false, who }) {
  // The chart: one labelled line per row, a bar per series, and the figures in its text
  // alternative.
  const chart = page.locator(`#${cardId} .chart`);
  check(await chart.isVisible(), `${who} ${cardId}: the chart is shown`);
  check((await chart.locator('.lbl').count()) === table.rows.length, `${who} ${cardId}: a chart line per row`);
  const chartText = `${await chart.textContent()} ${await chart.getAttribute('aria-label')}`;
  check(!chartText.includes('[object') && !chartText.includes('undefined'), `${who} ${cardId}: the chart reads ${chartText.slice(0, 80)}`);
  for (const row of table.rows.filter((r) => !r.suppressed)) {
    const name = row.keys[0].labelDe ?? row.keys[0].label ?? row.keys[0].value;
    check((await chart.getAttribute('aria-label')).includes(name), `${who} ${cardId}: the chart's text alternative names ${name}`);
  }
  await page.locator(`#${cardId} .views button`).nth(1).click();
  check(!(await chart.isVisible()), `${who} ${cardId}: the table replaces the chart`);
  const rows = page.locator(`#${cardId} table tbody tr`);
  check((await rows.count()) === table.rows.length, `${who} ${cardId}: ${await rows.count()} rows, API ${table.rows.length}`);
  let suppressed = 0;
  for (const row of table.rows) {
    const k = row.keys[0];
    const name = k.labelDe ?? k.label ?? k.value;
    const tr = rowOf(page, cardId, name);
    check((await tr.count()) === 1, `${who} ${cardId}: one row named ${name}`);
    const got = await shown(tr.locator('td.num').last(), amount);
    const want = row.suppressed ? 'suppressed' : amount ? row.amount : row.count;
    if (row.suppressed) suppressed += 1;
    check(got === want, `${who} ${cardId} ${name}: page ${got}, API ${want}`);
  }
  await page.locator(`#${cardId} .views button`).nth(0).click();
  return suppressed;
}

async function axe(page, who) {
  // Evaluated through the driver, which the page's content security policy does not govern.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) console.error(`axe ${who}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  check(bad.length === 0, `${who}: axe-core found ${bad.length} serious or critical violations`);
  return result.violations.length;
}

async function session(who, tok, viewport) {
  const context = await browser.newContext({ viewport, bypassCSP: false });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  page.on('request', (r) => check(r.url().startsWith(base) || r.url().startsWith('blob:'), `${who}: request to another origin ${r.url()}`));
  await page.goto(`${base}/dashboard`);
  await page.getByText('Aktualisiert.').waitFor();
  // Signed out, the page shows the public view.
  check((await page.locator('#who').textContent()).includes('Öffentliche Ansicht'), `${who}: public view before signing in`);
  await page.fill('#token', tok);
  await page.locator('#signin-form button[type=submit]').click();
  await page.locator('#who', { hasText: 'Angemeldet als' }).waitFor();
  await page.getByText('Aktualisiert.').waitFor();
  return { context, page, errors };
}

const started = Date.now();
let suppressedSeen = 0;

// ---- The ministry: the protected view, federal → state drill-down, English, phone. ----
{
  const who = 'ministry';
  const { context, page, errors } = await session(who, ministry, { width: 1280, height: 900 });
  check((await page.locator('#who').textContent()).includes('Ministerium'), `${who}: the role is named`);
  const total = await api('/api/v1/statistics/mentorships', ministry);
  const kpi = await shown(page.locator('#figures dd').first());
  check(kpi === total.total.count, `${who}: mentorships in all ${kpi}, API ${total.total.count}`);
  await page.screenshot({ path: join(shots, 'dashboard-ministry-1280.png'), fullPage: true });
  await page.screenshot({ path: join(shots, 'dashboard-ministry-1280-top.png') });
  const started = await api('/api/v1/statistics/mentorships_started?groupBy=year', ministry);
  const ended = await api('/api/v1/statistics/mentorships_ended?groupBy=year', ministry);
  // The per-year card shows three series; compare started and ended column by column.
  await page.locator('#per-year .views button').nth(1).click();
  for (const [col, table] of [[0, started], [1, ended]]) {
    for (const row of table.rows) {
      const tr = rowOf(page, 'per-year', row.keys[0].value);
      const got = await shown(tr.locator('td.num').nth(col));
      const want = row.suppressed ? 'suppressed' : row.count;
      if (row.suppressed) suppressedSeen += 1;
      check(got === want, `${who} per-year ${row.keys[0].value} series ${col}: page ${got}, API ${want}`);
    }
  }
  // The last twelve month ends, one request (a series of stocks).
  const now = new Date();
  const end = (back) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 0)).toISOString().slice(0, 10);
  const series = await api(`/api/v1/statistics/mentorships_active?activeAt=${end(11)}&activeTo=${end(0)}`, ministry);
  check(series.rows.length === 12, `${who}: twelve months (${series.rows.length})`);
  await compareTable(page, 'per-month', series, { who });
  const byState = await api('/api/v1/statistics/mentorships?groupBy=state', ministry);
  suppressedSeen += await compareTable(page, 'by-geo', byState, { who });
  const target = await api('/api/v1/statistics/mentorships?groupBy=target_group', ministry);
  suppressedSeen += await compareTable(page, 'by-target', target, { who });
  const funding = await api('/api/v1/statistics/funding?groupBy=state', ministry);
  await compareTable(page, 'funding', funding, { amount: true, who });
  await page.locator('#per-year .views button').nth(0).click();
  check(await page.locator('#per-year .chart').isVisible(), `${who}: the chart view is back`);
  check(!(await page.locator('#per-year table').isVisible()), `${who}: the table is hidden again`);
  await axe(page, `${who} chart view`);
  for (const id of ['per-year', 'by-geo', 'by-target', 'funding']) await page.locator(`#${id} .views button`).nth(1).click();
  await axe(page, `${who} table view`);

  // Drill down to Bavaria: by keyboard (focus the button, press Enter).
  const open = page.locator('#by-geo table button', { hasText: 'Bayern' });
  await open.focus();
  await page.keyboard.press('Enter');
  await page.locator('#place [aria-current="page"]', { hasText: 'Bayern' }).waitFor();
  await page.locator('#by-geo h2', { hasText: 'Region' }).waitFor();
  await page.getByText('Aktualisiert.').waitFor();
  const byRegion = await api(`/api/v1/statistics/mentorships?groupBy=region&network=${bavaria.id}`, ministry);
  suppressedSeen += await compareTable(page, 'by-geo', byRegion, { who: `${who} in Bayern` });
  const codes = await page.locator('#by-geo tbody td:not(.num)').allTextContents();
  check(codes.length > 0 && codes.every((c) => /^\d{5}$/.test(c.trim())), `${who}: regions carry their district keys (${codes})`);

  // English.
  await page.locator('#lang').click();
  check(await page.locator('html').getAttribute('lang') === 'en', `${who}: the page is in English`);
  await page.locator('#by-target-title', { hasText: 'target group' }).waitFor();
  await page.locator('#place button').first().click();
  await page.getByText('Updated.').waitFor();
  await page.locator('#by-target .views button').nth(1).click();
  const english = await page.locator('#by-target tbody th').allTextContents();
  check(english.includes('young people'), `${who}: target groups named in English (${english})`);
  await page.screenshot({ path: join(shots, 'dashboard-ministry-en.png'), fullPage: true });
  await axe(page, `${who} in English`);
  check(errors.length === 0, `${who}: console errors: ${errors.join(' | ')}`);
  await context.close();

  // A phone: nothing wider than the screen.
  const phone = await session(`${who} phone`, ministry, { width: 390, height: 844 });
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `${who} phone: the page is ${overflow} px wider than the screen`);
  await phone.page.screenshot({ path: join(shots, 'dashboard-ministry-phone.png'), fullPage: true });
  await axe(phone.page, `${who} phone`);
  check(phone.errors.length === 0, `${who} phone: console errors: ${phone.errors.join(' | ')}`);
  await phone.context.close();
}

// ---- A state coordinator: exact figures of its own state, by region. ----
{
  const who = 'state coordinator';
  const { context, page, errors } = await session(who, coordinator, { width: 1280, height: 900 });
  check((await page.locator('#who').textContent()).includes('Bayern'), `${who}: the network is named`);
  check((await page.locator('#place [aria-current="page"]').textContent()).includes('Bayern'), `${who}: starts at Bayern`);
  const byRegion = await api('/api/v1/statistics/mentorships?groupBy=region', coordinator);
  check(byRegion.protected === false, `${who}: the API gives exact figures`);
  await compareTable(page, 'by-geo', byRegion, { who });
  check((await page.locator('#by-geo .note').allTextContents()).some((n) => n.includes('Exakte Zahlen')), `${who}: says the figures are exact`);
  const ended = await api('/api/v1/statistics/mentorships_ended?groupBy=year', coordinator);
  await page.locator('#per-year .views button').nth(1).click();
  for (const row of ended.rows) {
    const tr = rowOf(page, 'per-year', row.keys[0].value);
    const got = await shown(tr.locator('td.num').nth(1));
    check(got === row.count, `${who} ended ${row.keys[0].value}: page ${got}, API ${row.count}`);
  }
  await page.screenshot({ path: join(shots, 'dashboard-state-coordinator.png'), fullPage: true });
  await axe(page, who);
  check(errors.length === 0, `${who}: console errors: ${errors.join(' | ')}`);
  await context.close();
}

// The ministry's demo view has suppressed cells; had the page shown them as numbers (or
// zeros), the comparisons above would have failed — this makes sure there were some.
check(suppressedSeen > 0, `the ministry saw suppressed cells (${suppressedSeen})`);

await browser.close();
server.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
console.log(`dashboard in Chromium: ${checks} checks, ${failures} failed, ${suppressedSeen} suppressed cells compared, ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shots}`);
process.exit(failures ? 1 : 0);
