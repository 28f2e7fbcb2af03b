/* The ticket sidebar: Escalator's SLA clock for this ticket, live, with the owner and Acknowledge. */
(function () {
  'use strict';
  var E = window.Escalator;
  var client = window.ZAFClient.init();
  var now = E.clockOf(client);
  var ctx = { ticketId: null, user: null, serviceUrl: null };
  var view = null;
  var skew = 0; // the service's clock minus ours, measured at each answer
  var heard = { at: null, error: null };
  var lastAttempt = null;
  var inFlight = false;
  var acknowledging = false;

  function $(id) { return document.getElementById(id); }

  function serviceNow() { return now() + skew; }

  function refresh() {
    if (inFlight || ctx.ticketId === null) return Promise.resolve();
    inFlight = true;
    lastAttempt = now();
    return E.api(client, ctx.serviceUrl, 'GET', '/tickets/' + encodeURIComponent(ctx.ticketId) + '/sla')
      .then(accept, function (error) { heard.error = error.message; })
      .then(function () { inFlight = false; render(); });
  }

  function accept(data) {
    var received = now();
    view = data;
    skew = Date.parse(data.now) - received;
    heard = { at: received, error: null };
  }

  // A target's state at this instant: the clock keeps moving between answers (warning at 80 %, then breach).
  function liveState(target, at) {
    if (target.state !== 'on track' && target.state !== 'warning') return target.state;
    if (target.due && at >= Date.parse(target.due)) return 'breached';
    if (target.warning && at >= Date.parse(target.warning)) return 'warning';
    return 'on track';
  }

  function overall(states) {
    if (states.indexOf('breached') >= 0) return 'breached';
    if (states.indexOf('warning') >= 0) return 'warning';
    var running = states.indexOf('on track') >= 0;
    if (!running && states.indexOf('paused') >= 0) return 'paused';
    if (states.length && states.every(function (s) { return s === 'met'; })) return 'met';
    return 'on track';
  }

  function cls(state) { return state.replace(/ /g, '-'); }

  function renderTarget(target, at, zone) {
    var state = liveState(target, at);
    var main, detail = '';
    if (state === 'on track' || state === 'warning') {
      main = 'due in ' + E.duration(Date.parse(target.due) - at);
      detail = E.when(target.due) + ' your time · ' + E.when(target.due, zone) + ' customer (' + zone + ')';
    } else if (state === 'breached') {
      var late = target.due && view.status !== 'solved' && view.status !== 'closed'
        ? at - Date.parse(target.due) : (target.breached_by_seconds || 0) * 1000;
      main = 'breached by ' + E.duration(late);
      detail = target.due ? 'was due ' + E.when(target.due) + ' your time · ' + E.when(target.due, zone) + ' customer' : '';
    } else if (state === 'paused') {
      main = 'paused';
      detail = target.paused_since
        ? 'since ' + E.when(target.paused_since) + ' your time (' + E.duration(at - Date.parse(target.paused_since)) + ')'
        : 'the clock is stopped while the ticket waits';
    } else if (state === 'met') {
      main = 'met';
    } else {
      main = state;
    }
    return E.el('div', { className: 'target ' + cls(state), 'data-target': target.target, 'data-state': state }, [
      E.el('div', {}, [E.el('span', { className: 'label', text: target.label + ' · ' }), E.el('span', { className: 'tstate', text: state })]),
      E.el('div', { className: 'countdown', text: main }),
      detail ? E.el('div', { className: 'muted small when', text: detail }) : null
    ]);
  }

  function isOwner(owner) {
    var user = ctx.user || {};
    var groups = (user.groups || []).map(function (g) { return g.id; });
    if (!owner.zendesk_group_id && !owner.zendesk_assignee_id) return true; // no Zendesk identity: anyone on the desk
    return groups.indexOf(owner.zendesk_group_id) >= 0 || (owner.zendesk_assignee_id && user.id === owner.zendesk_assignee_id);
  }

  function renderAck(area) {
    E.clear(area);
    var step = view.acknowledge;
    if (!step) return;
    if (!isOwner(view.owner)) {
      area.appendChild(E.el('p', { className: 'muted small', text: 'Waiting for ' + step.owner + ' to acknowledge level ' + step.level + '.' }));
      return;
    }
    var button = E.el('button', { id: 'acknowledge', type: 'button', text: acknowledging ? 'Acknowledging…' : 'Acknowledge (level ' + step.level + ', ' + step.owner + ')' });
    if (acknowledging) button.disabled = true;
    button.addEventListener('click', function () { acknowledge(step.level); });
    area.appendChild(button);
  }

  function acknowledge(level) {
    acknowledging = true;
    render();
    var user = ctx.user || {};
    E.api(client, ctx.serviceUrl, 'POST', '/tickets/' + encodeURIComponent(ctx.ticketId) + '/acknowledge',
          { level: level, user: { id: user.id, name: user.name } })
      .then(function (answer) { accept(answer.ticket); }, function (error) { heard.error = 'Acknowledge failed: ' + error.message; })
      .then(function () { acknowledging = false; render(); });
  }

  function renderSteps(list) {
    E.clear(list);
    view.steps.forEach(function (step) {
      var ack = step.acknowledged_at ? ' — acknowledged by ' + step.acknowledged_by + ' at ' + E.when(step.acknowledged_at) : '';
      list.appendChild(E.el('li', { 'data-level': step.level, text: 'Level ' + step.level + ' ' + step.owner + ' at ' + E.when(step.at) + ': ' + step.why.join('; ') + ack }));
    });
  }

  function render() {
    var at = serviceNow();
    var fresh = E.freshness(heard, now());
    $('notice').hidden = !fresh.notice;
    $('notice').textContent = fresh.notice;
    $('heard').textContent = fresh.footer;
    if (!view) {
      $('loading').hidden = !!fresh.notice;
      return;
    }
    $('loading').hidden = true;
    $('ticket').hidden = false;
    $('ticket').className = fresh.stale ? 'stale-view' : '';
    var zone = view.organization.timezone;
    var targets = $('targets');
    E.clear(targets);
    var states = view.targets.map(function (t) {
      targets.appendChild(renderTarget(t, at, zone));
      return liveState(t, at);
    });
    var state = overall(states);
    var chip = $('state');
    chip.className = 'chip ' + (fresh.stale ? 'stale' : cls(state));
    chip.setAttribute('data-state', state);
    chip.textContent = fresh.stale ? state + ' as of ' + E.clockTime(heard.at) : state;
    $('policy').textContent = (view.tier || '?') + ' · ' + (view.priority || '?') + ' priority';
    $('reason').textContent = 'Priority from the ' + view.priority_source + (view.priority_reason ? ': ' + view.priority_reason : '') +
      '. ' + view.organization.name + ', customer time ' + E.when(new Date(at).toISOString(), zone) + ' (' + zone + ').';
    $('owner').textContent = 'Level ' + view.owner.level + ' · ' + view.owner.role;
    $('owner-why').textContent = view.owner.why ? 'Why: ' + view.owner.why + '.' : '';
    renderAck($('ack-area'));
    renderSteps($('steps'));
    var commitments = $('commitments');
    E.clear(commitments);
    view.commitments.forEach(function (c) {
      commitments.appendChild(E.el('li', { 'data-kind': c.kind, text: c.text + (c.at ? ' — ' + E.when(c.at) : '') }));
    });
    $('commitments-area').hidden = view.commitments.length === 0;
  }

  function tick() {
    if (lastAttempt !== null && now() - lastAttempt >= E.REFRESH_MS) refresh();
    render();
  }

  function start() {
    Promise.all([client.get('ticket.id'), client.get('currentUser'), client.metadata()]).then(function (answers) {
      ctx.ticketId = answers[0]['ticket.id'];
      ctx.user = answers[1].currentUser;
      ctx.serviceUrl = (answers[2].settings || {}).service_url;
      return refresh();
    });
    setInterval(tick, 1000);
  }

  client.on('app.registered', start);
  // Saving lets Zendesk's webhook reach Escalator first; the hook itself must not hold up the save.
  client.on('ticket.save', function () { setTimeout(refresh, 3000); return true; });
  client.on('ticket.updated', function () { refresh(); });
})();
