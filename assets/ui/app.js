// Orbit dashboard: live updates (Server-Sent Events) and running clocks. Served as a file of the
// package under a Content-Security-Policy that forbids inline script; the pages work without it.
(function () {
  'use strict';
  var body = document.body;
  var live = body.getAttribute('data-live') || 'none';
  var indicator = document.getElementById('live');

  function formatDuration(ms) {
    if (ms < 1000) return Math.max(0, Math.round(ms)) + 'ms';
    var s = ms / 1000;
    if (s < 60) return (s < 10 ? s.toFixed(1) : String(Math.round(s))) + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm' + String(Math.floor(s % 60)).padStart(2, '0') + 's';
    var h = Math.floor(m / 60);
    if (h < 48) return h + 'h' + String(m % 60).padStart(2, '0') + 'm';
    return Math.floor(h / 24) + 'd' + String(h % 24).padStart(2, '0') + 'h';
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll('.elapsed[data-since]').forEach(function (el) {
      var since = Date.parse(el.getAttribute('data-since'));
      if (!isNaN(since)) el.textContent = formatDuration(now - since);
    });
  }
  setInterval(tick, 1000);

  // Which <details> are open, so that a refresh keeps what the reader unfolded.
  function detailsKey(d) {
    var owner = d.closest('[data-step]');
    var summary = d.querySelector('summary');
    return (owner ? owner.getAttribute('data-step') : '') + '|' + d.className + '|' + (summary ? summary.textContent : '');
  }

  var refreshing = false;
  var again = false;
  function refresh() {
    var main = document.getElementById('main');
    if (!main) return;
    var active = document.activeElement;
    if (active && main.contains(active) && (active.tagName === 'INPUT' || active.tagName === 'SELECT')) {
      // Never pull the form away from someone typing: refresh when they leave it.
      active.addEventListener('blur', refresh, { once: true });
      return;
    }
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    var url = new URL(window.location.href);
    url.searchParams.delete('ok');
    url.searchParams.delete('error');
    url.searchParams.set('fragment', '1');
    fetch(url.toString(), { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) {
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        var open = {};
        main.querySelectorAll('details').forEach(function (d) {
          open[detailsKey(d)] = d.open;
        });
        main.innerHTML = html;
        main.querySelectorAll('details').forEach(function (d) {
          var k = detailsKey(d);
          if (k in open) d.open = open[k];
        });
        tick();
        body.setAttribute('data-refreshed', String(Number(body.getAttribute('data-refreshed') || '0') + 1));
      })
      .catch(function () {})
      .then(function () {
        refreshing = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  if (live !== 'none' && typeof EventSource !== 'undefined') {
    var runId = live.indexOf('run:') === 0 ? live.slice(4) : null;
    var source = new EventSource('/events');
    var opened = false;
    source.addEventListener('open', function () {
      if (indicator) indicator.className = 'live on';
      // What changed between rendering the page (or a lost connection) and now was not heard: look once.
      if (opened || live !== 'all') refresh();
      opened = true;
      body.setAttribute('data-live-ready', '1');
    });
    source.addEventListener('error', function () {
      if (indicator) indicator.className = 'live off';
    });
    source.addEventListener('change', function (e) {
      var msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (runId === null || msg.all || (msg.runs && msg.runs.indexOf(runId) >= 0)) refresh();
    });
  }
})();
