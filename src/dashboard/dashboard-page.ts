/**
 * The ops dashboard: one static page, its stylesheet and its script, served as they are (no
 * front-end build). The script signs in through the API and draws with Chart.js, which the app
 * serves from node_modules. Everything it shows comes from /api/v1/reports/*, so it sees exactly
 * what the signed-in user may see. Data only ever reaches the page through textContent.
 */

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Handoff · SLA dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<script src="/dashboard/assets/chart.umd.min.js" defer></script>
<script src="/dashboard/assets/dashboard.js" defer></script>
</head>
<body data-state="starting">
<header>
  <h1>Handoff <span>service levels between departments</span></h1>
  <div class="who"><span id="who"></span> <button id="sign-out" type="button" hidden>Sign out</button></div>
</header>

<section id="login" hidden>
  <form id="login-form">
    <h2>Sign in</h2>
    <p>For ops, admins and department heads.</p>
    <label>Email <input name="email" type="email" autocomplete="username" required></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
    <button type="submit">Sign in</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
</section>

<main id="board" hidden>
  <div class="controls">
    <label>Buckets
      <select id="interval">
        <option value="day">days (last 30)</option>
        <option value="week">weeks (last 12)</option>
      </select>
    </label>
    <label>Time zone <select id="timezone"></select></label>
    <span id="as-of" class="muted"></span>
    <p id="board-error" class="error" role="alert"></p>
  </div>

  <section class="charts">
    <figure>
      <figcaption>Response compliance by department pair</figcaption>
      <div class="chart"><canvas id="chart-response" aria-label="Response compliance per department pair over time"></canvas></div>
    </figure>
    <figure>
      <figcaption>Resolution compliance by department pair</figcaption>
      <div class="chart"><canvas id="chart-resolution" aria-label="Resolution compliance per department pair over time"></canvas></div>
    </figure>
  </section>

  <section>
    <h2>Department pairs over the whole window</h2>
    <table id="pairs">
      <thead><tr><th>Provider → customer</th><th>Requests</th><th>Response</th><th>Resolution</th><th>Breaches</th>
        <th>Respond p50 / p90</th><th>Resolve p50 / p90</th><th>Open</th><th>At risk</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section>
    <h2>Chains by slack</h2>
    <table id="chains">
      <thead><tr><th>Chain end</th><th>Provider → customer</th><th>Promise</th><th>Open requests</th><th>Slack</th><th>Projected finish</th><th>At risk since</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <div class="lists">
    <section>
      <h2>Requests by slack</h2>
      <table id="at-risk">
        <thead><tr><th>Request</th><th>Provider → customer</th><th>Slack</th><th>Projected finish</th><th>Promise</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section>
      <h2>Latest escalations</h2>
      <table id="escalations">
        <thead><tr><th>Fired</th><th>Kind</th><th>Request</th><th>Provider → customer</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </div>
</main>
</body>
</html>
`;

export const DASHBOARD_CSS = `
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; background: #f4f6f9; }
header { display: flex; justify-content: space-between; align-items: center; padding: 0.8rem 1.5rem; background: #1d2330; color: #fff; }
header h1 { margin: 0; font-size: 1.2rem; }
header h1 span { font-weight: normal; opacity: 0.7; font-size: 0.9rem; margin-left: 0.5rem; }
button { font: inherit; padding: 0.35rem 0.9rem; border-radius: 4px; border: 1px solid #4b5875; background: #2f6fde; color: #fff; cursor: pointer; }
#sign-out { background: transparent; }
#login { display: flex; justify-content: center; padding-top: 4rem; }
#login form { background: #fff; padding: 1.5rem 2rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,0.15); width: 22rem; }
#login label { display: block; margin: 0.8rem 0; }
#login input { display: block; width: 100%; padding: 0.4rem; margin-top: 0.2rem; font: inherit; }
main { padding: 1rem 1.5rem 2rem; }
.controls { display: flex; gap: 1.5rem; align-items: center; flex-wrap: wrap; margin-bottom: 1rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(30rem, 1fr)); gap: 1rem; }
figure { margin: 0; background: #fff; border-radius: 8px; padding: 0.8rem 1rem; box-shadow: 0 1px 3px rgba(0,0,0,0.1); }
figcaption { font-weight: 600; margin-bottom: 0.5rem; }
.chart { position: relative; height: 18rem; }
section { margin-top: 1rem; }
section h2 { font-size: 1rem; margin: 0.5rem 0; }
.lists { display: grid; grid-template-columns: repeat(auto-fit, minmax(30rem, 1fr)); gap: 1rem; }
table { width: 100%; border-collapse: collapse; background: #fff; border-radius: 8px; overflow: hidden; box-shadow: 0 1px 3px rgba(0,0,0,0.1); }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #e5e8ee; }
th { background: #eef1f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.empty { color: #777; font-style: italic; }
.bad { color: #b42318; font-weight: 600; }
.ok { color: #067647; }
.muted { color: #667085; }
.error { color: #b42318; }
`;

// Plain ES2020 for the browser; kept free of backticks so it can live in this template literal.
export const DASHBOARD_SCRIPT = `
(function () {
  'use strict';
  var TOKEN = 'handoff.token';
  var USER = 'handoff.user';
  var PALETTE = ['#2f6fde', '#e0612f', '#12a150', '#a23bd1', '#d19a00', '#0f9fb5', '#d6336c', '#5c6b8a', '#7a5c2e', '#3bb273'];
  var charts = {};

  function byId(id) { return document.getElementById(id); }
  function setState(state) { document.body.setAttribute('data-state', state); }
  function token() { return sessionStorage.getItem(TOKEN); }

  function api(path) {
    return fetch('/api/v1' + path, { headers: { Authorization: 'Bearer ' + token(), Accept: 'application/json' } }).then(function (answer) {
      if (answer.status === 401) { signOut('Your session has ended; sign in again.'); throw new Error('signed out'); }
      return answer.json().then(function (body) {
        if (!answer.ok) throw new Error(body && body.message ? body.message : 'HTTP ' + answer.status);
        return body;
      });
    });
  }

  function showLogin(message) {
    byId('board').hidden = true;
    byId('login').hidden = false;
    byId('sign-out').hidden = true;
    byId('who').textContent = '';
    byId('login-error').textContent = message || '';
    setState('login');
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(USER);
    Object.keys(charts).forEach(function (key) { charts[key].destroy(); delete charts[key]; });
    showLogin(message);
  }

  function signIn(event) {
    event.preventDefault();
    var form = event.target;
    byId('login-error').textContent = '';
    fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ email: form.email.value, password: form.password.value })
    }).then(function (answer) {
      return answer.json().then(function (body) {
        if (!answer.ok) throw new Error(answer.status === 401 ? 'Wrong email or password.' : (body.message || 'Sign-in failed.'));
        if (['ops', 'admin', 'head'].indexOf(body.user.role) < 0) {
          throw new Error('The dashboard is for ops, admins and department heads.');
        }
        sessionStorage.setItem(TOKEN, body.accessToken);
        sessionStorage.setItem(USER, JSON.stringify(body.user));
        form.password.value = '';
        showBoard();
      });
    }).catch(function (error) { byId('login-error').textContent = error.message; setState('login-failed'); });
  }

  function showBoard() {
    var user = JSON.parse(sessionStorage.getItem(USER) || 'null');
    byId('login').hidden = true;
    byId('board').hidden = false;
    byId('sign-out').hidden = false;
    byId('who').textContent = user ? user.name + ' (' + user.role + ')' : '';
    load();
  }

  function percent(fraction) { return fraction === null || fraction === undefined ? '–' : (fraction * 100).toFixed(1) + ' %'; }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '–';
    var sign = seconds < 0 ? '−' : '';
    var s = Math.abs(seconds);
    if (s < 90) return sign + Math.round(s) + ' s';
    if (s < 600) return sign + Math.floor(Math.round(s) / 60) + ' min' + (Math.round(s) % 60 ? ' ' + (Math.round(s) % 60) + ' s' : '');
    if (s < 5400) return sign + Math.round(s / 60) + ' min';
    if (s < 172800) return sign + (s / 3600).toFixed(1) + ' h';
    return sign + (s / 86400).toFixed(1) + ' d';
  }
  function when(iso) {
    if (!iso) return '–';
    var zone = byId('timezone').value;
    return new Intl.DateTimeFormat('en-GB', { timeZone: zone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
  }
  function bucketLabel(iso) {
    var zone = byId('timezone').value;
    return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }
  function fill(tableId, items, columns, emptyText) {
    var body = byId(tableId).querySelector('tbody');
    body.textContent = '';
    if (items.length === 0) {
      var row = document.createElement('tr');
      var td = cell(row, emptyText, 'empty');
      td.colSpan = byId(tableId).querySelectorAll('thead th').length;
      body.appendChild(row);
      return;
    }
    items.forEach(function (item) {
      var row = document.createElement('tr');
      columns.forEach(function (column) { var value = column(item); cell(row, value[0], value[1]); });
      body.appendChild(row);
    });
  }

  function drawChart(id, trend, figure) {
    var labels = trend.buckets.map(function (b) { return bucketLabel(b.start); });
    var pairs = {};
    trend.buckets.forEach(function (bucket, i) {
      bucket.rows.forEach(function (row) {
        if (!pairs[row.group.id]) pairs[row.group.id] = { label: row.group.code, values: labels.map(function () { return null; }) };
        var value = row[figure];
        pairs[row.group.id].values[i] = value === null ? null : Math.round(value * 1000) / 10;
      });
    });
    var datasets = Object.keys(pairs).sort(function (a, b) { return pairs[a].label.localeCompare(pairs[b].label); }).map(function (key, i) {
      var color = PALETTE[i % PALETTE.length];
      return { label: pairs[key].label, data: pairs[key].values, borderColor: color, backgroundColor: color, spanGaps: true, tension: 0, pointRadius: 3, clip: false };
    });
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart(byId(id), {
      type: 'line',
      data: { labels: labels, datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        layout: { padding: { top: 6 } }, // a point at 100 % is drawn whole, not cut by the top edge
        scales: { y: { min: 0, max: 100, title: { display: true, text: '% met' } } },
        plugins: { legend: { position: 'bottom' } }
      }
    });
  }

  function load() {
    setState('loading');
    byId('board-error').textContent = '';
    var query = 'groupBy=pair&interval=' + encodeURIComponent(byId('interval').value) + '&timezone=' + encodeURIComponent(byId('timezone').value);
    api('/reports/sla/trend?' + query).then(function (trend) {
      return Promise.all([
        api('/reports/sla?groupBy=pair&from=' + encodeURIComponent(trend.from) + '&to=' + encodeURIComponent(trend.to)),
        api('/reports/at-risk?limit=20'),
        api('/reports/escalations?limit=20')
      ]).then(function (answers) {
        byId('as-of').textContent = 'from ' + when(trend.from) + ' to ' + when(trend.to) + ' · as of ' + when(trend.asOf);
        drawChart('chart-response', trend, 'responseCompliance');
        drawChart('chart-resolution', trend, 'resolutionCompliance');
        fill('pairs', answers[0].rows, [
          function (r) { return [r.group.name]; },
          function (r) { return [String(r.total), 'num']; },
          function (r) { return [percent(r.responseCompliance), 'num ' + (r.responseCompliance !== null && r.responseCompliance < 0.9 ? 'bad' : 'ok')]; },
          function (r) { return [percent(r.resolutionCompliance), 'num ' + (r.resolutionCompliance !== null && r.resolutionCompliance < 0.9 ? 'bad' : 'ok')]; },
          function (r) { return [String(r.breaches), 'num']; },
          function (r) { return [duration(r.respondP50Seconds) + ' / ' + duration(r.respondP90Seconds), 'num']; },
          function (r) { return [duration(r.resolveP50Seconds) + ' / ' + duration(r.resolveP90Seconds), 'num']; },
          function (r) { return [String(r.open), 'num']; },
          function (r) { return [String(r.atRisk), 'num' + (r.atRisk > 0 ? ' bad' : '')]; }
        ], 'No requests in this window.');
        fill('at-risk', answers[1].items, [
          function (r) { return [r.title]; },
          function (r) { return [r.provider.code + ' → ' + r.customer.code]; },
          function (r) { return [duration(r.slackSeconds), 'num' + (r.slackSeconds < 0 ? ' bad' : '')]; },
          function (r) { return [when(r.projectedFinishAt)]; },
          function (r) { return [r.externalDueAt ? when(r.externalDueAt) + (r.externalRef ? ' (' + r.externalRef + ')' : '') : '–']; }
        ], 'Nothing at risk.');
        fill('chains', answers[1].chains, [
          function (c) { return [c.title]; },
          function (c) { return [c.provider.code + ' → ' + c.customer.code]; },
          function (c) { return [c.externalDueAt ? when(c.externalDueAt) + (c.externalRef ? ' (' + c.externalRef + ')' : '') : c.neededBy ? 'needed ' + when(c.neededBy) : '–']; },
          function (c) { return [String(c.openRequests), 'num']; },
          function (c) { return [duration(c.slackSeconds), 'num' + (c.slackSeconds < 0 ? ' bad' : '')]; },
          function (c) { return [when(c.projectedFinishAt)]; },
          function (c) { return [c.atRisk ? when(c.atRiskSince) : 'on track', c.atRisk ? 'bad' : 'ok']; }
        ], 'No chains.');
        fill('escalations', answers[2].items, [
          function (e) { return [when(e.firedAt)]; },
          function (e) { return [e.kind.replace(/_/g, ' '), /breach|risk/.test(e.kind) ? 'bad' : '']; },
          function (e) { return [e.requestTitle]; },
          function (e) { return [e.provider.code + ' → ' + e.customer.code]; }
        ], 'No escalations yet.');
        setState('ready');
      });
    }).catch(function (error) {
      if (error.message === 'signed out') return;
      byId('board-error').textContent = error.message;
      setState('error');
    });
  }

  function start() {
    var zones = ['UTC'];
    var local = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (local && zones.indexOf(local) < 0) zones.push(local);
    zones.forEach(function (zone) {
      var option = document.createElement('option');
      option.value = zone;
      option.textContent = zone;
      byId('timezone').appendChild(option);
    });
    byId('login-form').addEventListener('submit', signIn);
    byId('sign-out').addEventListener('click', function () { signOut(''); });
    byId('interval').addEventListener('change', load);
    byId('timezone').addEventListener('change', load);
    if (typeof Chart === 'undefined') { byId('board-error').textContent = 'The chart library did not load.'; }
    if (token()) showBoard(); else showLogin('');
  }

  start();
})();
`;
