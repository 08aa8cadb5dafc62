/*
 * What every demo page shares: the page's own callbacks report the token they got here, so a
 * person sees it arrive and the headless run can read window.demoTokens.
 */
(function () {
  window.demoTokens = [];
  window.demoReceived = function (token, how) {
    if (typeof token !== 'string' || !token) return;
    window.demoTokens.push(token);
    var out = document.getElementById('demo-result');
    if (out) {
      out.setAttribute('data-state', 'solved');
      out.textContent = 'The page received a token through ' + how + ': ' + token.slice(0, 48) + '…';
    }
    var submit = document.getElementById('submit');
    if (submit) submit.disabled = false;
  };
})();
