/**
 * Stand-ins for what the widgets' own hosts serve, answered in place of the real hosts so the
 * fixture pages work offline:
 * - vendorFrame: the widgets' frames (reCAPTCHA anchor/bframe, Arkose enforcement and game-core,
 *   the Turnstile widget frame on challenges.cloudflare.com), as HTML;
 * - vendorApi: the GeeTest endpoints the widget scripts call by JSONP (v3 gettype.php, get.php,
 *   ajax.php on api.geetest.com or a regional api_server; v4 load on gcaptcha4.geetest.com).
 * Both return null for anything else; the tests fail those requests as an offline browser would.
 */
const UUID = /[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}/;

/** A Turnstile widget frame: …/turnstile/f/av0/rch<rcV>/<widget id>/<sitekey>/<theme>/fbE/new/<size>. */
const TURNSTILE_FRAME = /^\/cdn-cgi\/challenge-platform\/(?:h\/[a-z]\/)?turnstile\/f\/av0\/rch[^/]*\/([a-z0-9]{5})\/([0-9A-Za-z_-]{3,100})\//;

/** Hosts of GeeTest's APIs: api.geetest.com, regional api-<region>.geetest.com, gcaptcha4(-<region>).geetest.com. */
const GEETEST_HOST = /^(?:api(?:-[a-z]+)?|gcaptcha4(?:-[a-z]+)?)\.geetest\.com$/;

export interface VendorAnswer {
  contentType: string;
  body: string;
}

export function vendorFrame(url: URL): string | null {
  const pk = UUID.exec(decodeURIComponent(url.href))?.[0] ?? '';
  const session = `7a1c0e1f2b3d4e5f6.1234567890|r=eu-west-1|pk=${pk}|at=40|surl=${encodeURIComponent(url.origin)}`;
  if (/^\/recaptcha\/(api2|enterprise)\/(anchor|bframe)$/.test(url.pathname)) {
    return `<!doctype html><html><head><title>reCAPTCHA</title></head><body>
      <input type="hidden" id="recaptcha-token" value="03AFcWeA-anchor-session">
      <div class="rc-anchor rc-anchor-normal"><span id="recaptcha-anchor" class="recaptcha-checkbox" role="checkbox" aria-checked="false"></span></div>
      <textarea id="g-recaptcha-response" name="g-recaptcha-response"></textarea>
      <script src="https://www.gstatic.com/recaptcha/releases/pCoGBhjs9s8EhFOHJFe8cqis/recaptcha__en.js"></script>
    </body></html>`;
  }
  if (/\/enforcement\.[0-9a-f]+\.html$/.test(url.pathname)) {
    // The key is in the #fragment, which requests do not carry: the frame reads it, as Arkose's does.
    return `<!doctype html><html><head><title>Verification</title></head><body>
      <input type="hidden" id="verification-token" name="verification-token">
      <input type="hidden" id="FunCaptcha-Token" name="fc-token">
      <script>
        var session = '7a1c0e1f2b3d4e5f6.1234567890|r=eu-west-1|pk=' + location.hash.slice(1) + '|at=40|surl=' + encodeURIComponent(location.origin);
        document.getElementById('verification-token').setAttribute('value', session);
        document.getElementById('FunCaptcha-Token').setAttribute('value', session);
        var frame = document.createElement('iframe');
        frame.src = location.origin + '/fc/gc/?token=' + encodeURIComponent(session);
        document.body.appendChild(frame);
      </script>
    </body></html>`;
  }
  if (url.pathname.startsWith('/fc/gc/')) {
    return `<!doctype html><html><body><div id="FunCaptcha" data-pkey="${pk}"><input type="hidden" name="fc-token" value="${session}"></div></body></html>`;
  }
  const turnstile = url.hostname === 'challenges.cloudflare.com' ? TURNSTILE_FRAME.exec(url.pathname) : null;
  if (turnstile) {
    // The checkbox page. It announces itself to api.js (init, then asks for the widget's params)
    // as the real frame does, and never completes: no token comes from here.
    const [, widgetId, sitekey] = turnstile;
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Just a moment...</title></head><body>
      <div class="main-wrapper" role="main"><div id="content"><div id="challenge-stage">
        <label class="cb-lb"><input type="checkbox"><span class="cb-i"></span><span class="cb-lb-t">Verify you are human</span></label>
      </div></div></div>
      <input type="hidden" name="cf-turnstile-response" data-sitekey="${sitekey}">
      <script>
        var widgetId = ${JSON.stringify(widgetId)};
        parent.postMessage({ source: 'cloudflare-challenge', widgetId: widgetId, event: 'init', mode: 'managed', nextRcV: '' }, '*');
        parent.postMessage({ source: 'cloudflare-challenge', widgetId: widgetId, event: 'requestExtraParams' }, '*');
      </script>
    </body></html>`;
  }
  return null;
}

function jsonp(url: URL, data: unknown): VendorAnswer {
  const callback = url.searchParams.get('callback');
  const json = JSON.stringify({ status: 'success', data });
  const name = callback && /^[A-Za-z_$][\w$]*$/.test(callback) ? callback : null;
  return { contentType: 'text/javascript; charset=utf-8', body: name ? `${name}(${json})` : json };
}

function hex(n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

/** The GeeTest endpoints' JSONP answers (shapes trimmed from the real ones); null for anything else. */
export function vendorApi(url: URL): VendorAnswer | null {
  if (!GEETEST_HOST.test(url.hostname)) return null;
  const staticServers = ['static.geetest.com/', 'static.geevisit.com/'];
  switch (url.pathname) {
    case '/gettype.php':
      return jsonp(url, {
        type: 'fullpage',
        static_servers: staticServers,
        fullpage: '/static/js/fullpage.9.1.9-r8k4eq.js',
        slide: '/static/js/slide.7.9.2.js',
        click: '/static/js/click.3.1.0.js',
        geetest: '/static/js/geetest.6.0.9.js',
        aspect_radio: { slide: 103, click: 128, voice: 128, beeline: 50 },
      });
    case '/get.php':
      return jsonp(url, {
        theme: 'wind',
        theme_version: '1.5.8',
        static_servers: staticServers,
        api_server: `${url.hostname}/`,
        logo: true,
        feedback: 'https://www.geetest.com/contact#report',
        c: [12, 58, 98, 36, 43, 95, 62, 15, 12],
        s: hex(8),
      });
    case '/ajax.php':
      return jsonp(url, { result: 'slide' });
    case '/load':
      return jsonp(url, {
        lot_number: hex(32),
        captcha_type: url.searchParams.get('risk_type') ?? 'slide',
        js: '/js/slide.7.6.5.js',
        css: '/css/slide.7.6.5.css',
        static_path: '/v4/static/v1.8.4',
        show_voice: false,
        feedback: 'https://www.geetest.com/Helper',
        logo: true,
        pt: '1',
        captcha_mode: 'risk_mode',
        language: url.searchParams.get('lang') ?? 'zho',
        payload: hex(96),
        process_token: hex(64),
        payload_protocol: 1,
      });
    default:
      return null;
  }
}
