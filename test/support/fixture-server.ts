/**
 * Serves test/fixtures (pages and fake widget runtimes) on 127.0.0.1, and stands in for what the
 * fixture pages reach beyond it:
 * - GeeTest v3 "register" endpoints (the site's own API1, GEETEST_V3_SITES): every call issues a
 *   fresh challenge for the site's gt, and is logged with the page that asked (Referer);
 * - vendor(url): the offline answer for an https URL, for the tests' request routing: widget
 *   frames (vendor-frames.ts), GeeTest's JSONP endpoints (logged: a challenge that reached
 *   get.php / ajax.php was consumed by the widget), and the hosts of fixture frames that must be
 *   cross-origin (FIXTURE_HOSTS serve the same files as this server);
 * - Cloudflare's own paths on a protected site (/cdn-cgi/…): the challenge page's orchestrate
 *   script and the Bot Management script, from runtime/.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { vendorApi, vendorFrame, type VendorAnswer } from './vendor-frames';

export const FIXTURES_DIR = path.resolve('test/fixtures');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
  '.png': 'image/png',
};

/** The gt each GeeTest v3 register endpoint answers with (one per fixture site). */
const GEETEST_V3_SITES: Record<string, string> = {
  '/api/geetest/register': '6c2a9b1ef4d3087e5a1b9c7d2e4f6a80',
  '/captcha/geetest/register-bind': 'b5f07e3c91d24a68e0c3f1a9d7b26e45',
};

/** https hosts that serve this server's files (a cross-origin frame's site), at the same paths. */
const FIXTURE_HOSTS = ['forms.example.com'];

/** Cloudflare's paths on a protected site, served from runtime/. */
const CDN_CGI: [RegExp, string][] = [
  [/^\/cdn-cgi\/challenge-platform\/h\/[a-z]\/orchestrate\/chl_page\/v1$/, 'runtime/cf-chl-orchestrate.js'],
  [/^\/cdn-cgi\/challenge-platform\/scripts\/jsd\/main\.js$/, 'runtime/cf-jsd-main.js'],
];

export interface GeeTestIssued {
  challenge: string;
  gt: string;
  /** The page that asked (its Referer). */
  page: string;
  at: number;
}

export interface GeeTestRequest {
  host: string;
  /** /gettype.php, /get.php, /ajax.php (v3) or /load (v4). */
  path: string;
  gt?: string;
  challenge?: string;
  /** v4 load: captcha_id and risk_type. */
  captchaId?: string;
  riskType?: string;
  at: number;
}

export class GeeTestLog {
  readonly issued: GeeTestIssued[] = [];
  readonly requests: GeeTestRequest[] = [];

  /** The challenge the register endpoint last issued to this page URL. */
  issuedTo(pageUrl: string): string | undefined {
    return this.issued.filter((i) => i.page === pageUrl).at(-1)?.challenge;
  }

  wasIssued(challenge: string): boolean {
    return this.issued.some((i) => i.challenge === challenge);
  }

  /** When a GeeTest widget first sent this challenge to get.php or ajax.php (used it up), if ever. */
  consumedAt(challenge: string): number | undefined {
    return this.requests.find((r) => r.challenge === challenge && (r.path === '/get.php' || r.path === '/ajax.php'))?.at;
  }
}

export interface FixtureServer {
  origin: string;
  /** Form posts and other requests the pages made, for assertions. */
  posts: { path: string; body: string }[];
  geetest: GeeTestLog;
  /** The offline answer for an https request (see the header), or null: fail it. */
  vendor(url: URL): VendorAnswer | null;
  close(): Promise<void>;
}

function typeOf(file: string): string {
  return TYPES[path.extname(file)] ?? 'application/octet-stream';
}

/** A file under root for a URL path, or null. */
function fileFor(root: string, pathname: string): string | null {
  for (const [pattern, target] of CDN_CGI) if (pattern.test(pathname)) return path.join(root, target);
  const file = path.join(root, decodeURIComponent(pathname));
  if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return null;
  return file;
}

/** `host`: another loopback address (127.0.0.2) stands for a second site. */
export async function startFixtureServer(root = FIXTURES_DIR, host = '127.0.0.1'): Promise<FixtureServer> {
  const posts: FixtureServer['posts'] = [];
  const geetest = new GeeTestLog();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posts.push({ path: url.pathname, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><title>posted</title><p id="posted">ok</p>');
      });
      return;
    }
    const gt = GEETEST_V3_SITES[url.pathname];
    if (gt) {
      // As the GeeTest server SDKs answer API1: success, the gt, a fresh md5-like challenge.
      const challenge = randomBytes(16).toString('hex');
      geetest.issued.push({ challenge, gt, page: req.headers.referer ?? '', at: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ success: 1, gt, challenge, new_captcha: true }));
      return;
    }
    const file = fileFor(root, url.pathname);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const type = url.pathname.startsWith('/cdn-cgi/') ? TYPES['.js']! : typeOf(file);
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;

  const vendor = (url: URL): VendorAnswer | null => {
    if (FIXTURE_HOSTS.includes(url.hostname)) {
      const file = fileFor(root, url.pathname);
      return file ? { contentType: typeOf(file), body: fs.readFileSync(file, 'utf8') } : null;
    }
    const frame = vendorFrame(url);
    if (frame !== null) return { contentType: 'text/html; charset=utf-8', body: frame };
    const answer = vendorApi(url);
    if (answer) {
      const q = url.searchParams;
      const request: GeeTestRequest = { host: url.hostname, path: url.pathname, at: Date.now() };
      if (q.has('gt')) request.gt = q.get('gt')!;
      if (q.has('challenge') && url.pathname !== '/load') request.challenge = q.get('challenge')!;
      if (q.has('captcha_id')) request.captchaId = q.get('captcha_id')!;
      if (q.has('risk_type')) request.riskType = q.get('risk_type')!;
      geetest.requests.push(request);
    }
    return answer;
  };

  return {
    origin: `http://${host}:${port}`,
    posts,
    geetest,
    vendor,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
