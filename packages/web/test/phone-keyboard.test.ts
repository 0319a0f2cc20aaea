import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  ensureWebBuilt,
  launchBrowser,
  SCREENSHOTS,
  skipBrowser,
} from './helpers/browser.js';
import { startTestNode, type TestNode } from './helpers/node.js';

const CHAT_MODEL = 'llama3.2:3b';
const ADMIN = { username: 'ana', password: 'correct horse battery' };
/** A mid-range phone; the issue measured 423 px of page in it. */
const PHONE = { width: 390, height: 844 };
/** The narrowest and widest phones the UI must fit without sideways scrolling. */
const OTHER_WIDTHS = [360, 430];
const NAV = ['Chat', 'Agents', 'Models', 'Assistants', 'Memories', 'Dashboard', 'Settings'];

/** The page's widths: what it lays out against what the window shows. */
const widths = (page: Page) =>
  page.evaluate(() => ({
    scroll: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    inner: window.innerWidth,
  }));

/**
 * Fails, naming what sticks out, when the page is wider than a `width` phone. A phone widens its
 * layout viewport to fit such a page, so `innerWidth` itself must stay at the phone's width.
 */
async function expectFits(page: Page, where: string, width = PHONE.width): Promise<void> {
  const { scroll, inner } = await widths(page);
  if (scroll <= inner && inner === width) return;
  const culprits = await page.evaluate((limit) => {
    return Array.from(document.querySelectorAll('body *'))
      .filter((el) => el.getBoundingClientRect().right > limit + 0.5)
      .slice(0, 6)
      .map(
        (el) =>
          `${el.tagName.toLowerCase()}.${el.className} → ${Math.round(el.getBoundingClientRect().right)}`,
      );
  }, width);
  expect({ where, scroll, inner, culprits }).toEqual({ where, scroll: inner, inner: width, culprits: [] });
}

/** Whether an element lies wholly inside the viewport (not cut off, not scrolled away). */
async function inViewport(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (el === null) return false;
    const box = el.getBoundingClientRect();
    return (
      box.width > 0 &&
      box.height > 0 &&
      box.left >= 0 &&
      box.top >= 0 &&
      box.right <= window.innerWidth &&
      box.bottom <= window.innerHeight
    );
  }, selector);
}

/** After scrolling to the very bottom, every navigation link is still on screen. */
async function expectNavReachable(page: Page, where: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  const links = await page.locator('nav[aria-label] a').count();
  expect(links, where).toBeGreaterThan(0);
  for (let index = 1; index <= links; index++) {
    expect(
      await inViewport(page, `nav[aria-label] a:nth-of-type(${index})`),
      `${where}: nav link ${index}`,
    ).toBe(true);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
}

/** Fits at 390 px, then at the narrowest and widest phones too. */
async function expectFitsAllPhones(page: Page, where: string): Promise<void> {
  await expectFits(page, where);
  for (const width of OTHER_WIDTHS) {
    await page.setViewportSize({ width, height: PHONE.height });
    await expectFits(page, `${where} at ${width} px`, width);
  }
  await page.setViewportSize(PHONE);
}

const TOKEN_NAME = 'kitchen tablet';
/** The created-day cell of the test's token in Settings' token table. */
const createdCell = (page: Page) => page.locator('tr', { hasText: TOKEN_NAME }).locator('td').nth(4);

const suiteName = skipBrowser
  ? `phone, keyboard and language in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'phone, keyboard and language in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let t: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    t = await startTestNode({
      name: 'kitchen',
      sim: { profile: 'fast', models: [CHAT_MODEL, 'all-minilm:latest'] },
    });
    chrome = await launchBrowser();
    context = await chrome.browser.newContext({
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
      locale: 'en-US',
      timezoneId: 'UTC',
      colorScheme: 'light',
    });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await chrome?.close();
    await t?.teardown();
  });

  it('should ask the language before the account form, and fit a phone at every wizard step', async () => {
    await page.goto(`${t.node.url}/`);
    await page.waitForURL('**/setup');
    await page.getByRole('heading', { name: 'Choose the language' }).waitFor();
    expect(await page.getByLabel('Admin username').count()).toBe(0);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await page.title()).toBe('Setup · Allerac');
    const choices = await page.locator('fieldset label').allTextContents();
    expect(choices).toEqual(['English', 'Português (Portugal)', 'Português (Brasil)', 'Español']);
    await expectFitsAllPhones(page, 'setup: language');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByLabel('Admin username').fill(ADMIN.username);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await expectFitsAllPhones(page, 'setup: account');
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.getByLabel('Agent name').fill('Kitchen');
    await expectFitsAllPhones(page, 'setup: agent');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Choose the models' }).waitFor();
    expect(await page.getByLabel('Chat model').inputValue()).toBe(CHAT_MODEL);
    await expectFitsAllPhones(page, 'setup: models');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Test connection' }).waitFor();
    await expectFitsAllPhones(page, 'setup: test');
    await page.getByRole('button', { name: 'Finish setup' }).click();
    await page.waitForURL('**/chat');
  });

  it('should fit the chat on a phone with Send on screen and the navigation within reach', async () => {
    await page.getByRole('heading', { name: 'Chat' }).waitFor();
    expect(await page.title()).toBe('Chat · Allerac');
    await page.getByLabel('Message').fill('What can you do for the kitchen?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.bubble:not(.bubble-user) .bubble-text').first().waitFor();
    await page.getByRole('button', { name: 'Send' }).waitFor();
    expect(await inViewport(page, '.composer .btn-primary'), 'Send is wholly on screen').toBe(true);
    await expectFitsAllPhones(page, 'chat');
    await expectNavReachable(page, 'chat');
    await page.screenshot({ path: join(SCREENSHOTS, 'phone-chat.png') });
  });

  it('should fit every other page on a phone, each with its own title and the navigation within reach', async () => {
    const waitFor: Record<string, string> = {
      Agents: '.agents-grid',
      Models: '[data-testid=model-row]',
      Assistants: '[data-testid=agent-code-assistant]',
      Memories: '.memories-layout',
      Dashboard: '.chart',
      Settings: 'table',
    };
    // Settings lists a token, so that it has a dated row to fit (and, below, to read).
    await page.evaluate(async (name) => {
      const csrf = decodeURIComponent(/allerac_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
      const made = await fetch('/allerac/v1/tokens', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify({ name, role: 'member' }),
      });
      if (!made.ok) throw new Error(`token: ${made.status}`);
    }, TOKEN_NAME);
    for (const name of NAV.slice(1)) {
      await page.locator('nav[aria-label]').getByRole('link', { name }).click();
      await page.getByRole('heading', { name, level: 1 }).waitFor();
      await page.locator(waitFor[name]!).first().waitFor();
      expect(await page.title()).toBe(`${name} · Allerac`);
      await expectFitsAllPhones(page, name);
      await expectNavReachable(page, name);
      if (name === 'Dashboard') await page.screenshot({ path: join(SCREENSHOTS, 'phone-dashboard.png') });
    }
  });

  it('should offer a skip link first, then the navigation in order, and ring a focused primary button', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await page.keyboard.press('Tab');
    const skip = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const box = el.getBoundingClientRect();
      return { text: el.textContent, href: el.getAttribute('href'), onScreen: box.left >= 0 && box.top >= 0 };
    });
    expect(skip).toEqual({ text: 'Skip to content', href: '#main', onScreen: true });

    const order: string[] = [];
    for (const _ of NAV) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.textContent?.trim() ?? ''));
    }
    expect(order).toEqual(NAV);

    // Back over every nav link to the skip link.
    for (const _ of NAV) await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');

    // Tab on from the content to the first primary button, as a keyboard user would.
    let ring: { outlineStyle: string; outlineWidth: string; outlineColor: string; text: string } | undefined;
    for (let presses = 0; presses < 60 && ring === undefined; presses++) {
      await page.keyboard.press('Tab');
      ring = await page.evaluate(() => {
        const el = document.activeElement;
        if (!(el instanceof HTMLElement) || !el.matches('.btn-primary:focus-visible')) return undefined;
        const style = getComputedStyle(el);
        return {
          outlineStyle: style.outlineStyle,
          outlineWidth: style.outlineWidth,
          outlineColor: style.outlineColor,
          text: el.textContent ?? '',
        };
      });
    }
    expect(ring, 'a primary button takes keyboard focus').toBeDefined();
    expect(ring!.outlineStyle).not.toBe('none');
    expect(Number.parseFloat(ring!.outlineWidth)).toBeGreaterThanOrEqual(2);
    // The ring is not the button's own colour, so it shows against a teal button.
    const background = await page.evaluate(() => getComputedStyle(document.activeElement!).backgroundColor);
    expect(ring!.outlineColor).not.toBe(background);
  });

  it('should switch <html lang>, titles, strings and dates with the language', async () => {
    const enDay = (await createdCell(page).textContent())?.trim();
    expect(enDay).toMatch(/^\d{1,2}\/\d{1,2}\/\d{2}$/);

    await page.getByLabel('Language').selectOption('es');
    await page.getByRole('heading', { name: 'Ajustes', level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('es');
    expect(await page.title()).toBe('Ajustes · Allerac');

    await page.getByLabel('Idioma').selectOption('pt-BR');
    await page.getByRole('heading', { name: 'Configurações', level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('pt-BR');
    expect(await page.title()).toBe('Configurações · Allerac');
    // Brazil writes 01/12/2026 where the US writes 12/1/26.
    expect((await createdCell(page).textContent())?.trim()).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);

    await page.getByLabel('Idioma').selectOption('pt');
    await page.getByRole('heading', { name: 'Definições', level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('pt');

    await page.getByLabel('Idioma').selectOption('en');
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
  });

  it('should show Brazilian strings and dates, from the first paint, to a pt-BR browser', async () => {
    const brazil = await chrome.browser.newContext({
      viewport: PHONE,
      isMobile: true,
      locale: 'pt-BR',
      timezoneId: 'America/Sao_Paulo',
    });
    // The lang of the page when the app first draws anything (its "Loading…", before any answer).
    await brazil.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.getElementById('app')?.firstChild == null) return;
        (window as unknown as { firstPaintLang: string }).firstPaintLang = document.documentElement.lang;
        observer.disconnect();
      }).observe(document, { childList: true, subtree: true });
    });
    try {
      const phone = await brazil.newPage();
      await phone.goto(`${t.node.url}/`);
      await phone.waitForURL('**/login');
      await phone.getByLabel('Senha').waitFor();
      expect(
        await phone.evaluate(() => (window as unknown as { firstPaintLang: string }).firstPaintLang),
      ).toBe('pt-BR');
      expect(await phone.evaluate(() => document.documentElement.lang)).toBe('pt-BR');
      expect(await phone.title()).toBe('Entrar · Allerac');
      expect(await phone.getByLabel('Nome de usuário').count()).toBe(1);
      await expectFitsAllPhones(phone, 'login');

      await phone.getByLabel('Nome de usuário').fill(ADMIN.username);
      await phone.getByLabel('Senha').fill(ADMIN.password);
      await phone.getByRole('button', { name: 'Entrar' }).click();
      await phone.waitForURL('**/chat');
      await phone.locator('nav[aria-label]').getByRole('link', { name: 'Configurações' }).click();
      await phone.getByRole('heading', { name: 'Configurações', level: 1 }).waitFor();
      await createdCell(phone).waitFor();
      expect((await createdCell(phone).textContent())?.trim()).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
    } finally {
      await brazil.close();
    }
  });
});
