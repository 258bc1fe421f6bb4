/**
 * Helpers of the console's browser tests: headless Chromium from @sparticuz/chromium driven by
 * playwright-core, and what the tests use of a media element (the test files compile without the DOM library).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;

/** What the tests use of an HTMLMediaElement. */
export interface MediaElement {
  readyState: number;
  muted: boolean;
  currentTime: number;
  duration: number;
  play(): Promise<void>;
  addEventListener(type: string, listener: (v: unknown) => void, opts?: { once: boolean }): void;
}

/** Starts headless Chromium, or says why it could not (the browser tests then skip with that reason). */
export async function launch(): Promise<{ browser?: Browser; why?: string }> {
  try {
    const chromium = (await import('@sparticuz/chromium')).default;
    const { chromium: pw } = await import('playwright-core');
    const executablePath = await chromium.executablePath();
    // The package's Lambda flags minus those that would weaken what is tested (web security) or tie the
    // browser's life to one context (single process); as root Chromium needs --no-sandbox.
    const dropped = new Set(['--single-process', '--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials']);
    const args = [...chromium.args.filter((a) => !dropped.has(a)), '--no-sandbox', '--autoplay-policy=no-user-gesture-required'];
    const browser = await pw.launch({ executablePath, args, headless: true });
    return { browser };
  } catch (e) {
    return { why: (e as Error).message };
  }
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

const AXE = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core audit of the page as it stands, at 1280×800 and at a phone width (390×844), with a full-page
 * screenshot of each into `shotsDir` as `<name>-desktop.png` / `<name>-phone.png`. Serious and critical
 * violations are added to `found` (the test asserts it empty at the end, so every page is listed at once).
 * axe is evaluated, not added as a script tag: the console's CSP allows no inline script.
 */
export async function auditPage(page: Page, shotsDir: string, name: string, found: string[]): Promise<void> {
  for (const [width, height, label] of [
    [1280, 800, 'desktop'],
    [390, 844, 'phone'],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.evaluate(await AXE);
    const violations = await page.evaluate<AxeViolation[]>('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)');
    for (const v of violations) {
      if (v.impact === 'serious' || v.impact === 'critical') found.push(`${name} (${label}): ${v.id} [${v.impact}] ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
    }
    await page.screenshot({ path: join(shotsDir, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}
