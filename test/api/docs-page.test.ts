import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { openApiDocument } from '../../api/app';
import { referenceApp } from '../support/reference-app';

/**
 * /api/docs in a real browser: Debian's Chromium, headless, driven by playwright-core (browser
 * downloads are not possible here; .ci/run installs the chromium package).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;
let server: http.Server;
let origin: string;
let reference: ReturnType<typeof referenceApp>;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does), or set CHROMIUM_PATH`);
  }
  reference = referenceApp();
  server = http.createServer(reference.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await reference?.close();
});

it('renders every operation of the document, loading nothing from another host', async () => {
  const page = await browser.newPage();
  const requested: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`);
  });

  const response = await page.goto(`${origin}/api/docs`);
  expect(response?.status()).toBe(200);
  await page.locator('.swagger-ui .info .title').filter({ hasText: 'tourhub API' }).waitFor({ timeout: 20_000 });

  const doc = openApiDocument();
  const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  await page.locator('.opblock').nth(operations - 1).waitFor({ timeout: 20_000 });
  expect(await page.locator('.opblock').count()).toBe(operations);
  expect(await page.locator('.opblock-summary-path[data-path="/api/tours/progress/{progressId}"]').count()).toBe(2);
  expect(await page.title()).toBe('tourhub API reference');

  expect(problems).toEqual([]);
  expect(requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'))).toEqual([]);
  expect(requested).toEqual(expect.arrayContaining([`${origin}/api/openapi.json`, `${origin}/api/docs/assets/swagger-ui-bundle.js`]));
  await page.close();
});
