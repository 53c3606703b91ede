// debrief serve: reload open pages after each rebuild and show problems on top of the page.
// Injected only by `debrief serve`; never part of `debrief build` output.
(function () {
  'use strict';
  var OVERLAY = 'debrief-overlay';

  function text(tag, className, content) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (content) { el.textContent = content; }
    return el;
  }

  function show(status) {
    var old = document.getElementById(OVERLAY);
    if (old) { old.remove(); }
    var problems = status.diagnostics || [];
    if (problems.length === 0) { return; }
    var box = text('section', '', '');
    box.id = OVERLAY;
    box.setAttribute('role', 'alertdialog');
    box.setAttribute('aria-label', 'debrief found problems');
    var head = text('div', 'debrief-overlay-head', '');
    head.appendChild(text('strong', '', problems.length + ' problem' + (problems.length === 1 ? '' : 's') + ' — showing the last good version of the site'));
    var close = text('button', '', 'Dismiss');
    close.type = 'button';
    close.addEventListener('click', function () { box.remove(); });
    head.appendChild(close);
    box.appendChild(head);
    var list = text('ol', '', '');
    problems.forEach(function (d) {
      var item = text('li', 'debrief-' + d.level, '');
      item.appendChild(text('code', '', d.location));
      item.appendChild(text('span', 'debrief-rule', ' ' + d.level + '[' + d.rule + '] '));
      item.appendChild(text('span', '', d.message));
      if (d.help) { item.appendChild(text('p', 'debrief-help', 'help: ' + d.help)); }
      list.appendChild(item);
    });
    box.appendChild(list);
    document.body.appendChild(box);
  }

  function refresh() {
    fetch('/__debrief/status.json', { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(show)
      .catch(function () { /* the server is restarting; the event stream retries */ });
  }

  var events = new EventSource('/__debrief/events');
  // The page that this tab shows, as the server names it (`postmortems/x/index.html`).
  function here() {
    var path = decodeURIComponent(location.pathname).replace(/^\/+/, '');
    if (path === '' || path.charAt(path.length - 1) === '/') { path += 'index.html'; }
    return path;
  }

  // Reload only when this page changed: an edit re-renders its postmortem first and the
  // lists a moment later, and a page should not reload for a change it does not show.
  events.addEventListener('reload', function (event) {
    var changed;
    try { changed = JSON.parse(event.data); } catch (e) { changed = null; }
    if (!Array.isArray(changed) || changed.indexOf(here()) !== -1) { location.reload(); }
  });
  events.addEventListener('status', refresh);
  refresh();
}());
