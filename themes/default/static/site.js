// debrief: search and filters for the postmortem index. Progressive enhancement: without
// this script every page still works, and the pre-rendered severity, service, tag, year
// and person pages do the browsing. No dependencies, no network beyond this site.
(function () {
  'use strict';
  var form = document.getElementById('finder');
  if (!form) { return; }
  var root = document.body.getAttribute('data-root') || '';
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.pm-row'));
  var query = document.getElementById('q');
  var severity = document.getElementById('f-severity');
  var status = document.getElementById('f-status');
  var service = document.getElementById('f-service');
  var count = document.getElementById('finder-count');
  var none = document.getElementById('no-results');
  var words = null;
  var waiting = [];

  // The index is a script, not JSON, so it also loads when the site is opened from disk.
  function withIndex(done) {
    if (words) { done(); return; }
    waiting.push(done);
    if (waiting.length > 1) { return; }
    var script = document.createElement('script');
    script.src = root + 'static/search-index.js';
    script.onload = function () {
      words = {};
      (window.DEBRIEF_SEARCH || []).forEach(function (entry) {
        words[entry.id] = ' ' + (entry.t + ' ' + entry.id + ' ' + entry.s + ' ' + entry.w).toLowerCase();
      });
      var callbacks = waiting;
      waiting = [];
      callbacks.forEach(function (callback) { callback(); });
    };
    script.onerror = function () {
      count.textContent = 'Search is unavailable: the index could not be loaded.';
    };
    document.head.appendChild(script);
  }

  function matches(row, terms) {
    if (severity.value && row.getAttribute('data-severity') !== severity.value) { return false; }
    if (status.value && row.getAttribute('data-status') !== status.value) { return false; }
    if (service.value && (' ' + row.getAttribute('data-services') + ' ').indexOf(' ' + service.value + ' ') < 0) { return false; }
    if (terms.length === 0) { return true; }
    var text = words && words[row.getAttribute('data-id')];
    if (!text) { return false; }
    return terms.every(function (term) { return text.indexOf(' ' + term) >= 0; });
  }

  function remember() {
    var params = [];
    [['q', query], ['severity', severity], ['status', status], ['service', service]].forEach(function (pair) {
      if (pair[1].value) { params.push(pair[0] + '=' + encodeURIComponent(pair[1].value)); }
    });
    try {
      history.replaceState(null, '', params.length ? '?' + params.join('&') : location.pathname);
    } catch (ignored) {
      // Some browsers refuse to change the address of a page opened from disk.
    }
  }

  function apply() {
    var terms = query.value.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(function (t) { return t.length > 0; });
    var shown = 0;
    rows.forEach(function (row) {
      var ok = matches(row, terms);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    var filtering = terms.length > 0 || severity.value || status.value || service.value;
    count.textContent = filtering ? shown + ' of ' + rows.length + ' postmortems shown' : '';
    none.hidden = shown > 0;
    remember();
  }

  function update() {
    if (query.value.trim()) { withIndex(apply); } else { apply(); }
  }

  var params = new URLSearchParams(location.search);
  query.value = params.get('q') || '';
  [['severity', severity], ['status', status], ['service', service]].forEach(function (pair) {
    var wanted = params.get(pair[0]);
    if (wanted) { pair[1].value = wanted; }
  });
  form.hidden = false;
  form.addEventListener('submit', function (event) { event.preventDefault(); update(); });
  query.addEventListener('input', update);
  [severity, status, service].forEach(function (select) { select.addEventListener('change', update); });
  if (location.search) { update(); }
}());
