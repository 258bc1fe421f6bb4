/**
 * Helpers of the console's browser tests: headless Chromium from @sparticuz/chromium driven by
 * playwright-core, and what the tests use of a media element (the test files compile without the DOM library).
 */
export type Browser = import('playwright-core').Browser;

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
