// `npm run screenshot`: writes the README picture docs/demo.png — the demo after user A
// signed out while the backend hung and user B signed in, the 1000x700 viewport as a
// palette PNG. Chromium by default; `node scripts/screenshot.mjs firefox` for Firefox.
// The scene and the browser set-up are the browser tests' (tests/browser/helpers.mjs),
// whose screenshot test writes only under test-results/.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  launchBrowser, startDemoServer, openDemo, stageScreenshotScene, SCREENSHOT_VIEWPORT,
} from '../tests/browser/helpers.mjs';
import { toPalettePng } from '../tests/browser/png-palette.mjs';

const OUT = fileURLToPath(new URL('../docs/demo.png', import.meta.url));
const browserName = process.argv[2] || 'chromium';

const server = await startDemoServer();
let browser;
try {
  browser = await launchBrowser(browserName);
  const env = { server, newContext: () => browser.createBrowserContext() };
  const { page } = await openDemo(env, { viewport: SCREENSHOT_VIEWPORT });
  await stageScreenshotScene(page);
  const png = toPalettePng(Buffer.from(await page.screenshot({ fullPage: false })));
  writeFileSync(OUT, png);
  process.stdout.write(`screenshot: docs/demo.png, ${png.length} B, ${browserName}\n`);
} finally {
  await browser?.close();
  await server.close();
}
