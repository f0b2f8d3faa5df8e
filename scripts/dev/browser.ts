import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Opens notebook reports in Debian's own headless Chromium through playwright-core (which
 * downloads nothing): used by the browser test and to take the README's screenshots.
 * A development tool: playwright-core is a devDependency, and nothing the CLI loads imports this.
 *
 *   node dist/scripts/dev/browser.js REPORT.html SHOT.png [--height PX]
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless, and nothing Chromium would fetch on its own (updates, sync, safe browsing lists). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The width the reports are checked and shown at. */
export const VIEWPORT = { width: 1280, height: 900 };

/** Throws, saying what to install, when Debian's chromium is not there. */
export function checkChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium (\`apt-get install -y chromium\`)`);
  }
}

export async function launchChromium(): Promise<Browser> {
  checkChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export interface OpenedReport {
  page: Page;
  url: string;
  /** Every URL the page requested, the report's own included. */
  requests: string[];
  /** Console errors and page errors (a CSP violation is one). */
  errors: string[];
}

/** Loads a report file into a fresh page of `width` px and waits until it has settled. */
export async function openReport(browser: Browser, htmlFile: string, viewport = VIEWPORT): Promise<OpenedReport> {
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
  const url = pathToFileURL(resolve(htmlFile)).href;
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  return { page, url, requests, errors };
}

/** A PNG of the report at 1280 px wide: the whole page, or its top `height` px. */
export async function screenshotReport(browser: Browser, htmlFile: string, pngFile: string, height?: number): Promise<void> {
  const { page } = await openReport(browser, htmlFile);
  try {
    await mkdir(dirname(pngFile), { recursive: true });
    await page.screenshot(
      height === undefined ? { path: pngFile, fullPage: true } : { path: pngFile, fullPage: true, clip: { x: 0, y: 0, width: VIEWPORT.width, height } },
    );
  } finally {
    await page.close();
  }
}

async function main(args: string[]): Promise<number> {
  const [html, png, flag, value] = args;
  if (html === undefined || png === undefined || (flag !== undefined && (flag !== '--height' || !(Number(value) > 0)))) {
    process.stderr.write('usage: node dist/scripts/dev/browser.js REPORT.html SHOT.png [--height PX]\n');
    return 2;
  }
  const browser = await launchChromium();
  try {
    await screenshotReport(browser, html, png, flag === undefined ? undefined : Number(value));
  } finally {
    await browser.close();
  }
  process.stdout.write(`${png}\n`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
