import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's chromium package, which .ci/run installs. */
export const CHROMIUM = '/usr/bin/chromium';
/** Where the tests save page screenshots for the README. */
export const SCREENSHOTS = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));
const WEB_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  return `Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (Debian's package)`;
}

/** True when the tests must skip (visibly) instead of failing: no Chromium and no root to install it. */
export const skipBrowser = chromiumMissing() !== undefined && process.getuid?.() !== 0;

/** Builds the UI if dist/ is missing, so the node has something to serve. */
export function ensureWebBuilt(): void {
  if (existsSync(join(WEB_ROOT, 'dist', 'index.html'))) return;
  execFileSync('npx', ['vite', 'build'], { cwd: WEB_ROOT, stdio: 'inherit', timeout: 120_000 });
}

/** A headless Chromium with a throwaway profile; `close()` removes the profile. */
export async function launchBrowser(
  extraArgs: readonly string[] = [],
): Promise<{ browser: Browser; close(): Promise<void> }> {
  const missing = chromiumMissing();
  if (missing !== undefined) throw new Error(missing);
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Playwright's launch() gives Chromium a fresh temporary --user-data-dir of its own (and refuses
  // one passed in args), so every run starts from an empty profile; TMPDIR points it here.
  const profile = mkdtempSync(join(tmpdir(), 'allerac-chromium-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...extraArgs,
    ],
    timeout: 60_000,
    env: { ...process.env, TMPDIR: profile },
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Claims a fresh node from `page`, already on it (loopback may claim): the first admin `ana`, then
 * the wizard's end with `agentName`. The page is signed in afterwards.
 */
export async function claimNode(page: Page, agentName: string): Promise<void> {
  await page.evaluate(async (name) => {
    const json = { 'Content-Type': 'application/json' };
    const setup = await fetch('/auth/setup', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ username: 'ana', password: 'correct horse battery' }),
    });
    if (!setup.ok) throw new Error(`setup: ${setup.status}`);
    const csrf = decodeURIComponent(/allerac_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
    const done = await fetch('/allerac/v1/setup/complete', {
      method: 'POST',
      headers: { ...json, 'X-CSRF-Token': csrf },
      body: JSON.stringify({ agentName: name, specializations: [] }),
    });
    if (!done.ok) throw new Error(`setup complete: ${done.status}`);
  }, agentName);
}
