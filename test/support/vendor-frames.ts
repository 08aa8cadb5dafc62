/**
 * Stand-ins for the widgets' own frames (reCAPTCHA anchor/bframe, Arkose enforcement and
 * game-core), served in place of the real hosts so the fixture pages' iframes load offline.
 * Returns the HTML for a URL, or null for anything that is not such a frame.
 */
const UUID = /[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}/;

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
  return null;
}
