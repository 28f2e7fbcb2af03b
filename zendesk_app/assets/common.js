/* Shared by the ticket sidebar and the nav bar queue: the API through Zendesk's proxy, time formatting. */
(function (root) {
  'use strict';

  var HEARD_STALE_MS = 65 * 1000; // two missed 30 s refreshes: what is shown is no longer current

  // The clock is injected: a host that offers now() (the tests' stand-in) drives it, else the browser's.
  function clockOf(client) {
    return typeof client.now === 'function' ? function () { return client.now(); } : function () { return Date.now(); };
  }

  // Zendesk's proxy replaces {{setting.api_token}} server-side (secure: true): the token never reaches the browser.
  function api(client, serviceUrl, method, path, body) {
    var options = {
      url: String(serviceUrl || '').replace(/\/+$/, '') + '/api/v1' + path,
      type: method,
      headers: { Authorization: 'Bearer {{setting.api_token}}' },
      secure: true,
      cors: false,
      dataType: 'json'
    };
    if (body !== undefined) {
      options.contentType = 'application/json';
      options.data = JSON.stringify(body);
    }
    return client.request(options).catch(function (failure) {
      throw new Error(describeFailure(failure));
    });
  }

  function describeFailure(failure) {
    var status = failure && failure.status;
    var message = '';
    try { message = JSON.parse(failure.responseText).error || ''; } catch (e) { message = ''; }
    if (status === 401) return 'the API token was refused (' + (message || 'unknown or revoked') + ')';
    if (status === 404) return message || 'this ticket is not known to Escalator yet';
    if (!status) return 'Escalator is unreachable';
    return 'Escalator answered ' + status + (message ? ': ' + message : '');
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  // 45s, 12m 05s, 3h 07m, 2d 4h
  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + pad(m) + 'm';
    if (m) return m + 'm ' + pad(s % 60) + 's';
    return (s % 60) + 's';
  }

  // "Mon 16 Mar 15:02" in the given zone (undefined: the agent's own).
  function when(iso, timeZone) {
    if (!iso) return '—';
    var options = { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    if (timeZone) options.timeZone = timeZone;
    try {
      return new Intl.DateTimeFormat('en-GB', options).format(new Date(iso));
    } catch (e) { // an unknown zone name: say so rather than show a wrong time
      return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' }).format(new Date(iso)) + ' UTC';
    }
  }

  function clockTime(ms) {
    return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .format(new Date(ms));
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') node.textContent = attrs[key];
      else if (key === 'className') node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // What the footer and the notice say about how fresh the data is.
  function freshness(heard, now) {
    if (heard.at === null) {
      return { stale: !!heard.error, notice: heard.error ? "Can't reach Escalator: " + heard.error + '.' : '', footer: '' };
    }
    var age = now - heard.at;
    var footer = 'Last heard from Escalator at ' + clockTime(heard.at) + ' (' + duration(age) + ' ago).';
    if (heard.error || age > HEARD_STALE_MS) {
      return {
        stale: true, footer: footer,
        notice: (heard.error ? "Can't reach Escalator: " + heard.error + '. ' : 'No answer from Escalator for ' + duration(age) + '. ') +
          'Last heard ' + duration(age) + ' ago, at ' + clockTime(heard.at) + '; what is shown is as of then, not current.'
      };
    }
    return { stale: false, notice: '', footer: footer };
  }

  root.Escalator = { clockOf: clockOf, api: api, duration: duration, when: when, clockTime: clockTime, el: el,
                     clear: clear, freshness: freshness, REFRESH_MS: 30 * 1000 };
})(window);
