// Screenshots of the signed-in demo, in every browser of helpers.mjs: a full page and a
// 1000x700 palette copy as the README uses, both under test-results/ (ignored by git).
// The README's own docs/demo.png is written by `npm run screenshot` (scripts/screenshot.mjs),
// never by a test, so running the suite leaves the tree clean.
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  forEachBrowser, openDemo, stageScreenshotScene, boxOf, SCREENSHOT_VIEWPORT,
} from './helpers.mjs';
import { toPalettePng } from './png-palette.mjs';

const RESULTS_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url));
const README_SHOT_MAX_BYTES = 120 * 1024;

function isPng(buffer) {
  return buffer.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

forEachBrowser((env, it) => {
  it('screenshot of the signed-in demo', { timeout: 30_000 }, async () => {
    const { page } = await openDemo(env, { viewport: SCREENSHOT_VIEWPORT });
    await stageScreenshotScene(page);

    // The profile is inside the README's 1000x700 frame.
    const box = await boxOf(page, 'profile-name');
    assert.ok(box && box.y + box.height <= 700 && box.x + box.width <= 1000, `profile outside the frame: ${JSON.stringify(box)}`);

    mkdirSync(RESULTS_DIR, { recursive: true });
    const full = Buffer.from(await page.screenshot({ fullPage: true }));
    writeFileSync(`${RESULTS_DIR}demo-logged-in-${env.name}.png`, full);
    assert.ok(isPng(full) && full.length > 10_000, 'full-page screenshot taken');

    // The README-style copy: the 1000x700 viewport as a palette PNG.
    const small = toPalettePng(Buffer.from(await page.screenshot({ fullPage: false })));
    const smallPath = `${RESULTS_DIR}demo-${env.name}.png`;
    writeFileSync(smallPath, small);
    assert.ok(isPng(small));
    const size = statSync(smallPath).size;
    assert.ok(size <= README_SHOT_MAX_BYTES, `the README-style copy is ${size} bytes`);
    // The browser can decode it and sees the full frame.
    const decoded = await page.evaluate(async (src) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      return { width: img.naturalWidth, height: img.naturalHeight };
    }, `data:image/png;base64,${small.toString('base64')}`);
    assert.deepEqual(decoded, { width: 1000, height: 700 });
  });
});
