/**
 * The demo site on 127.0.0.1: an index, one page per captcha family (demo/site), the local
 * stand-ins of the widget runtimes (test/fixtures/runtime, shared with the tests), the site's
 * own GeeTest v3 register endpoint, a form target that shows what the site received, and
 * buttons that tell the sandbox to fail.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_PAGES } from './pages';
import { DEMO_KEY, KEY_VARIANTS, type Sandbox } from './sandbox';

const DEMO_DIR = path.dirname(fileURLToPath(import.meta.url));
const SITE_DIR = path.join(DEMO_DIR, 'site');
const RUNTIME_DIR = path.resolve(DEMO_DIR, '..', 'test', 'fixtures', 'runtime');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

/** The gt of the demo site's GeeTest v3 account; /api/geetest/register answers with it. */
const DEMO_GEETEST_GT = '2e7b5c9a1f4d3068b7e2a9c5d1f8b4a6';

/** Failures the index page offers, as the control endpoint takes them. */
const FAILURES = [
  { errorCode: 'ERROR_ZERO_BALANCE', times: 1 },
  { errorCode: 'ERROR_NO_SLOT_AVAILABLE', times: 1 },
  { errorCode: 'ERROR_NO_SLOT_AVAILABLE', times: 8 },
  { errorCode: 'ERROR_CAPTCHA_UNSOLVABLE', times: 1 },
  { errorCode: 'ERROR_RECAPTCHA_INVALID_DOMAIN', times: 1 },
  { errorCode: 'ERROR_IP_BANNED', times: 1 },
] as const;

export interface DemoSite {
  origin: string;
  close(): Promise<void>;
}

export async function startDemoSite(sandbox: Sandbox, port = 0): Promise<DemoSite> {
  const server = http.createServer((req, res) => void handle(req, res, sandbox));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, sandbox: Sandbox): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const send = (status: number, type: string, body: string | Buffer): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (url.pathname === '/control/fail-next') {
      const form = new URLSearchParams(body);
      try {
        const done = sandbox.failNext({ errorCode: form.get('errorCode') ?? '', times: Number(form.get('times') ?? '1') });
        return send(200, 'application/json', JSON.stringify(done));
      } catch (error) {
        return send(400, 'application/json', JSON.stringify({ error: (error as Error).message }));
      }
    }
    return send(200, TYPES['.html']!, submittedPage(url.pathname, new URLSearchParams(body)));
  }
  if (url.pathname === '/' || url.pathname === '/index.html') return send(200, TYPES['.html']!, indexPage(sandbox));
  if (url.pathname === '/api/geetest/register') {
    // The site's API1, as GeeTest's server SDKs answer it: a fresh challenge every time.
    return send(200, 'application/json', JSON.stringify({ success: 1, gt: DEMO_GEETEST_GT, challenge: randomBytes(16).toString('hex'), new_captcha: true }));
  }

  const [root, relative] = url.pathname.startsWith('/runtime/') ? [RUNTIME_DIR, url.pathname.slice('/runtime/'.length)] : [SITE_DIR, url.pathname.slice(1)];
  const file = path.resolve(root, decodeURIComponent(relative));
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    return send(404, 'text/plain', 'not found');
  }
  send(200, TYPES[path.extname(file)] ?? 'application/octet-stream', fs.readFileSync(file));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function indexPage(sandbox: Sandbox): string {
  const pages = DEMO_PAGES.map(
    (p) =>
      `<li><a href="/${p.slug}.html">${escapeHtml(p.title)}</a><div class="task">sends <code>${p.taskType}</code>${
        p.shows.length ? ` with ${p.shows.map((s) => `<code>${s}</code>`).join(', ')}` : ''
      }</div></li>`,
  ).join('\n        ');
  const keys = [
    `<tr><td><code>${DEMO_KEY}</code></td><td>works; balance $${(sandbox.solver.options.balance ?? 0).toFixed(2)}</td></tr>`,
    ...Object.entries(KEY_VARIANTS).map(([key, v]) => `<tr><td><code>${key}</code></td><td>${escapeHtml(v.description)}</td></tr>`),
    '<tr><td>anything else</td><td><code>ERROR_KEY_DOES_NOT_EXIST</code></td></tr>',
  ].join('\n          ');
  const buttons = FAILURES.map((f) => `<button type="button" class="secondary" data-code="${f.errorCode}" data-times="${f.times}">${f.errorCode}${f.times > 1 ? ` × ${f.times}` : ''}</button>`).join(
    '\n        ',
  );
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>CapRelay demo</title>
    <link rel="stylesheet" href="/demo.css" />
  </head>
  <body>
    <header class="demo"><strong>CapRelay demo</strong></header>
    <main>
      <p class="note">
        Everything here runs on this computer: the pages, stand-ins of the captcha scripts, and a sandbox
        solving service at <code>${sandbox.url}</code>. CapRelay is already set to <strong>Custom</strong> →
        that URL with the key <code>${DEMO_KEY}</code>. Open a page, click the CapRelay button in the toolbar
        (under the puzzle piece), and click <strong>Solve</strong>. The browser is kept offline, so the
        widgets themselves are empty boxes: only local stand-ins of the Google, Arkose, Cloudflare and GeeTest
        scripts run.
      </p>
      <h2>Pages</h2>
      <ul class="cards">
        ${pages}
      </ul>
      <h2>Make the sandbox fail</h2>
      <p>The next task, whatever page it comes from, gets this error:</p>
      <div class="controls">
        ${buttons}
      </div>
      <p id="control-status" role="status"></p>
      <p>Or use one of these keys in the popup:</p>
      <table class="keys">
        <tbody>
          ${keys}
        </tbody>
      </table>
    </main>
    <script>
      document.querySelectorAll('.controls button').forEach(function (button) {
        button.addEventListener('click', function () {
          var body = new URLSearchParams({ errorCode: button.dataset.code, times: button.dataset.times });
          fetch('/control/fail-next', { method: 'POST', body: body })
            .then(function (r) { return r.json(); })
            .then(function (done) {
              document.getElementById('control-status').textContent =
                'The next ' + (done.times > 1 ? done.times + ' calls of ' : '') + done.method + ' will answer ' + done.errorCode + '.';
            });
        });
      });
    </script>
  </body>
</html>
`;
}

/** What the site's server got from the form: the token field is the point. */
function submittedPage(pathname: string, form: URLSearchParams): string {
  const rows = Array.from(form, ([name, value]) => {
    const shown = value.length > 80 ? `${value.slice(0, 80)}… (${value.length} characters)` : value;
    return `<tr><td><code>${escapeHtml(name)}</code></td><td><code>${escapeHtml(shown)}</code></td></tr>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Form received</title><link rel="stylesheet" href="/demo.css" /></head>
  <body>
    <header class="demo"><strong>CapRelay demo</strong> <a href="/">all pages</a></header>
    <main>
      <h1>The site received the form</h1>
      <p>POST ${escapeHtml(pathname)}:</p>
      <table class="keys"><tbody>${rows}</tbody></table>
    </main>
  </body>
</html>
`;
}
