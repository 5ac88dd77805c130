// Screenshots of the signed-in demo: a full page for test-results/ and a small
// 1000x700 viewport copy for the README (docs/demo.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  launchBrowser, startDemoServer, openDemo, signInWithButton, USER_A, USER_B, LOGOUT_WARNING,
} from './helpers.mjs';
import { toPalettePng } from './png-palette.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = `${ROOT}test-results`;
const FULL_SHOT = `${RESULTS_DIR}/demo-logged-in.png`;
const README_SHOT = `${ROOT}docs/demo.png`;
const README_SHOT_MAX_BYTES = 120 * 1024;

let browser;
let server;

before(async () => {
  server = await startDemoServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function isPng(buffer) {
  return buffer.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

test('screenshot of the signed-in demo', { timeout: 30_000 }, async () => {
  const { page, context } = await openDemo(browser, server, { viewport: { width: 1000, height: 700 } });

  // A short story for the log: A signs out while the backend hangs, then B signs in.
  await signInWithButton(page, USER_A);
  await page.getByTestId('fault-select').selectOption('hang');
  await page.getByTestId('fault-apply').click();
  await page.getByTestId('fault-status').filter({ hasText: 'never answers' }).waitFor({ timeout: 2000 });
  await page.getByTestId('logout-button').click();
  await page.getByTestId('log-entry').filter({ hasText: LOGOUT_WARNING }).first().waitFor({ timeout: 5000 });
  await page.getByTestId('fault-status').filter({ hasText: 'healthy' }).waitFor({ timeout: 2000 });
  await signInWithButton(page, USER_B);
  await page.getByTestId('session-expiry').filter({ hasText: /\d\d:\d\d/ }).waitFor({ timeout: 3000 });
  await page.locator('[data-testid="profile-panel"][aria-busy="false"]').waitFor({ timeout: 3000 });
  // Nothing keyboard-focused in the picture.
  await page.evaluate(() => document.activeElement?.blur());

  // The profile is inside the README's 1000x700 frame.
  const box = await page.getByTestId('profile-name').boundingBox();
  assert.ok(box && box.y + box.height <= 700 && box.x + box.width <= 1000, `profile outside the frame: ${JSON.stringify(box)}`);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const full = await page.screenshot({ path: FULL_SHOT, fullPage: true });
  assert.ok(isPng(full) && full.length > 10_000, 'full-page screenshot written');

  // The README copy: the 1000x700 viewport as a palette PNG.
  const small = toPalettePng(await page.screenshot({ fullPage: false }));
  mkdirSync(`${ROOT}docs`, { recursive: true });
  writeFileSync(README_SHOT, small);
  assert.ok(isPng(small));
  const size = statSync(README_SHOT).size;
  assert.ok(size <= README_SHOT_MAX_BYTES, `docs/demo.png is ${size} bytes`);
  // The browser can decode it and sees the full frame.
  const decoded = await page.evaluate(async (src) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    return { width: img.naturalWidth, height: img.naturalHeight };
  }, `data:image/png;base64,${small.toString('base64')}`);
  assert.deepEqual(decoded, { width: 1000, height: 700 });

  await context.close();
});
