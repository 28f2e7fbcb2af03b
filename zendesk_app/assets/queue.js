/* The nav bar view for managers: the dashboard's open tickets, breached first, then nearest breach. */
(function () {
  'use strict';
  var E = window.Escalator;
  var client = window.ZAFClient.init();
  var now = E.clockOf(client);
  var serviceUrl = null;
  var data = null;
  var skew = 0;
  var heard = { at: null, error: null };
  var lastAttempt = null;
  var filtersFilled = false;

  function $(id) { return document.getElementById(id); }

  function query() {
    var form = $('filters');
    var parts = ['tier', 'organization', 'level'].map(function (name) {
      var value = form.elements[name].value;
      return value ? name + '=' + encodeURIComponent(value) : '';
    }).filter(Boolean);
    return parts.length ? '?' + parts.join('&') : '';
  }

  function refresh() {
    lastAttempt = now();
    return E.api(client, serviceUrl, 'GET', '/queue' + query()).then(function (answer) {
      var received = now();
      data = answer;
      skew = Date.parse(answer.now) - received;
      heard = { at: received, error: null };
      fillFilters(answer.filters);
    }, function (error) { heard.error = error.message; }).then(render);
  }

  function fillFilters(filters) {
    if (filtersFilled) return;
    filtersFilled = true;
    var form = $('filters');
    filters.tiers.forEach(function (t) { form.elements.tier.appendChild(E.el('option', { value: t, text: t })); });
    filters.organizations.forEach(function (o) { form.elements.organization.appendChild(E.el('option', { value: String(o.id), text: o.name })); });
    filters.levels.forEach(function (l) { form.elements.level.appendChild(E.el('option', { value: String(l.level), text: l.level + ' ' + l.role })); });
  }

  function row(ticket, at) {
    var due = ticket.nearest_due ? Date.parse(ticket.nearest_due) : null;
    var clock = ticket.state === 'breached' ? 'breached' : ticket.state === 'paused' ? 'paused'
      : due === null ? '—' : due <= at ? 'breached' : 'due in ' + E.duration(due - at);
    var tr = E.el('tr', { 'data-id': ticket.id }, [
      E.el('td', { text: '#' + ticket.id }),
      E.el('td', { text: ticket.subject }),
      E.el('td', { text: ticket.organization }),
      E.el('td', { text: ticket.tier + ' / ' + ticket.priority }),
      E.el('td', {}, [E.el('span', { className: 'chip ' + ticket.state.replace(/ /g, '-'), text: ticket.state })]),
      E.el('td', { className: 'countdown-small', text: clock }),
      E.el('td', { text: 'L' + ticket.level + ' ' + ticket.owner })
    ]);
    tr.addEventListener('click', function () { client.invoke('routeTo', 'ticket', ticket.id); });
    return tr;
  }

  function render() {
    var fresh = E.freshness(heard, now());
    $('notice').hidden = !fresh.notice;
    $('notice').textContent = fresh.notice;
    $('heard').textContent = fresh.footer;
    if (!data) return;
    var at = now() + skew;
    var breached = $('breached'), nearest = $('nearest');
    E.clear(breached);
    E.clear(nearest);
    data.tickets.forEach(function (ticket) {
      (ticket.state === 'breached' ? breached : nearest).appendChild(row(ticket, at));
    });
  }

  function start() {
    client.metadata().then(function (metadata) {
      serviceUrl = (metadata.settings || {}).service_url;
      return refresh();
    });
    $('filters').addEventListener('change', refresh);
    setInterval(function () {
      if (lastAttempt !== null && now() - lastAttempt >= E.REFRESH_MS) refresh();
      else render();
    }, 1000);
  }

  client.on('app.registered', start);
})();
