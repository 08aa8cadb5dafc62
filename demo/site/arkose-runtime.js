/*
 * A local stand-in for Arkose Labs' v2 API script (https://<host>/v2/<public key>/api.js), so the
 * demo works offline. It does what a page and CapRelay can observe of the real one: it calls the
 * page's data-callback with an enforcement object, takes setConfig({selector, data: {blob},
 * onCompleted, …}), renders the enforcement iframe (real URL shape) and a hidden fc-token field.
 * Use it next to the real tag:
 *   <script src="/arkose-runtime.js" data-api="https://<host>/v2/<PK>/api.js" data-callback="setupEnforcement"></script>
 */
(function () {
  var script = document.currentScript;
  var api = new URL(script.getAttribute('data-api'));
  var match = /^\/v2\/([0-9A-Fa-f-]{36})\/api\.js$/.exec(api.pathname);
  var publicKey = match ? match[1] : '';
  var callbackName = script.getAttribute('data-callback');
  var config = {};
  var rendered = false;

  function render() {
    if (rendered || !config.selector) return;
    var target = document.querySelector(config.selector);
    if (!target) return;
    rendered = true;
    var frame = document.createElement('iframe');
    frame.title = 'Verification challenge';
    frame.setAttribute('aria-label', 'Verification challenge');
    frame.src = 'https://' + api.host + '/v2/2.12.2/enforcement.fbfc14b0d793c6ef8359e0e4b4a91f67.html#' + publicKey;
    var field = document.createElement('input');
    field.type = 'hidden';
    field.name = 'fc-token';
    target.appendChild(frame);
    target.appendChild(field);
    if (typeof config.onReady === 'function') setTimeout(config.onReady, 0);
  }

  var enforcement = {
    setConfig: function (next) {
      for (var key in next) config[key] = next[key];
      render();
    },
    getConfig: function () {
      return config;
    },
    run: function () {
      if (typeof config.onShown === 'function') setTimeout(config.onShown, 0);
    },
    reset: function () {
      var field = document.querySelector('input[name="fc-token"]');
      if (field) field.value = '';
    },
  };

  function start() {
    var setup = window[callbackName];
    if (typeof setup === 'function') setup(enforcement);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else setTimeout(start, 0);
})();
