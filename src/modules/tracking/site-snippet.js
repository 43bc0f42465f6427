/* Nurture site snippet, served as written at GET /t/s.js (site-routes.ts); keep it dependency-free and small.
   <script async src="<PUBLIC_URL>/t/s.js" data-site="<site key>"></script> */
(function (w, d) {
  var script = d.currentScript;
  var site = script && script.getAttribute('data-site');
  if (!site) return;
  var endpoint = script.src.replace(/\/t\/s\.js([?#].*)?$/, '/t/v') + '?site=' + encodeURIComponent(site);
  var KEY = 'nurture_nv';
  var IDLE_MS = 30 * 60 * 1000;

  function cookie() {
    var match = /(?:^|;\s*)nurture_nv=([^;]*)/.exec(d.cookie || '');
    return match ? decodeURIComponent(match[1]) : null;
  }

  // First party: the id lives on the customer's own site, not in a third-party cookie of ours.
  function keep(visitor) {
    try {
      w.localStorage.setItem(KEY, visitor);
    } catch (e) {
      d.cookie = KEY + '=' + encodeURIComponent(visitor) + '; path=/; max-age=34560000; samesite=lax' + (w.location.protocol === 'https:' ? '; secure' : '');
    }
  }

  function kept() {
    try {
      var stored = w.localStorage.getItem(KEY);
      if (stored) return stored;
    } catch (e) {}
    return cookie();
  }

  var url = new URL(w.location.href);
  var fresh = url.searchParams.get('nv');
  if (fresh) {
    keep(fresh);
    // The id stays out of bookmarks, shared links and the site's own analytics.
    url.searchParams.delete('nv');
    try {
      w.history.replaceState(w.history.state, '', url.pathname + url.search + url.hash);
    } catch (e) {}
  }
  var visitor = fresh || kept();
  // Not someone who came from one of our emails: nothing is sent.
  if (!visitor) return;

  var memory = null;
  // The session: one per tab, a new one after 30 minutes without a page view or read.
  function session() {
    var now = Date.now();
    var current = memory;
    try {
      current = JSON.parse(w.sessionStorage.getItem('nurture_session') || 'null') || memory;
    } catch (e) {}
    if (!current || now - current.at > IDLE_MS) current = { id: now.toString(36) + Math.random().toString(36).slice(2, 10), at: now };
    current.at = now;
    memory = current;
    try {
      w.sessionStorage.setItem('nurture_session', JSON.stringify(current));
    } catch (e) {}
    return current.id;
  }

  function send(event) {
    event.visitor = visitor;
    event.url = w.location.href;
    event.session = session();
    var body = JSON.stringify(event);
    var nav = w.navigator;
    // sendBeacon posts text/plain (no preflight) and survives the page closing; fetch keepalive does too.
    if (nav.sendBeacon && nav.sendBeacon(endpoint, body)) return;
    if (w.fetch) w.fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'omit' })['catch'](function () {});
  }

  var visibleMs = 0;
  var shownAt = d.visibilityState === 'hidden' ? 0 : Date.now();

  // Time on page: the visible time since the last report, sent each time the page is hidden or left.
  function hidden() {
    if (shownAt) visibleMs += Date.now() - shownAt;
    shownAt = 0;
    var seconds = Math.round(visibleMs / 1000);
    if (seconds < 1) return;
    visibleMs = 0;
    send({ name: 'page_read', seconds: seconds });
  }

  d.addEventListener('visibilitychange', function () {
    if (d.visibilityState === 'hidden') hidden();
    else if (!shownAt) shownAt = Date.now();
  });
  w.addEventListener('pagehide', hidden);

  send({ name: 'page_view', title: String(d.title || '').slice(0, 300), referrer: String(d.referrer || '').slice(0, 2000) });
})(window, document);
