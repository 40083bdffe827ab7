#include "server/web_ui.h"

namespace kiln::server {

// The page loads only its own script and style sheet: no inline code, so the policy below can
// forbid it (an injected <script> or onclick= does not run).
std::string_view WebUiPage() {
  static constexpr std::string_view kPage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kiln</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/ui.css">
</head><body>
<header>Kiln <span id="live" class="live"></span></header>
<main>
<section><h2>Pipelines</h2><div id="pipelines"></div></section>
<section><h2>Services</h2><div id="services"></div></section>
<section><h2>Executions</h2><div id="executions"></div></section>
<section><h2>Log <span id="logname"></span></h2><pre id="log"></pre></section>
</main>
<script type="module" src="/ui.js"></script></body></html>
)HTML";
  return kPage;
}

std::string_view WebUiScript() {
  static constexpr std::string_view kScript = R"JS(
const $ = id => document.getElementById(id);
// Every value shown goes through esc (text and attributes alike, quotes included).
const esc = s => String(s ?? '').replace(/[&<>"'`]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;','`':'&#96;'}[c]));
const get = p => fetch('/api/v1' + p).then(r => r.json());
let selected = null, logSource = null;
async function pipelines() {
  const list = (await get('/pipelines')).pipelines || [];
  let html = '';
  for (const p of list) {
    const s = await get('/pipelines/' + encodeURIComponent(p.name) + '/state');
    const latest = s.latestExecution || {};
    html += `<p><a href="#" data-pick="${esc(p.name)}"><b>${esc(p.name)}</b></a>
      <span class="stage ${esc(latest.status)}">${esc(latest.status || 'never run')}</span><br>`;
    for (const st of s.stageStates || []) {
      const status = (st.latestExecution || {}).status || '';
      const actions = (st.actionStates || []).map(a => {
        const e = a.latestExecution || {};
        const build = (e.externalExecutionId || '').includes(':') && !e.externalExecutionId.includes('/')
          ? ` <a href="#" data-tail="${esc(e.externalExecutionId)}">log</a>` : '';
        return `${esc(a.actionName)}${build}`;
      }).join(', ');
      html += `<span class="stage ${esc(status)}" title="${esc(status)}">${esc(st.stageName)}: ${actions}</span>`;
    }
    html += '</p>';
    if (!selected) selected = p.name;
  }
  $('pipelines').innerHTML = html || 'No pipelines in kiln.yml.';
  if (selected) executions();
}
async function executions() {
  const l = await get('/pipelines/' + encodeURIComponent(selected) + '/executions?limit=15');
  $('executions').innerHTML = `<b>${esc(selected)}</b><table><tr><th>Execution</th><th>Status</th><th>Started</th><th>Trigger</th></tr>` +
    (l.pipelineExecutionSummaries || []).map(e => `<tr><td>${esc(e.pipelineExecutionId.slice(0, 8))}</td>
      <td class="${esc(e.status)}">${esc(e.status)}</td><td>${esc(e.startTime)}</td>
      <td>${esc((e.trigger || {}).triggerType)}</td></tr>`).join('') + '</table>';
}
async function services() {
  const l = (await get('/services')).services || [];
  $('services').innerHTML = l.map(s => `<p><b>${esc(s.serviceName)}</b> revision ${esc(s.taskDefinition)}
    · desired ${esc(s.desiredCount)} · running ${esc(s.runningCount)}
    ${s.loadBalancer ? ' · <a href="http://' + esc(s.loadBalancer.listen) + '/">' + esc(s.loadBalancer.listen) + '</a>' : ''}<br>` +
    (s.deployments || []).map(d => `<span class="stage ${esc(d.rolloutState)}">deployment r${esc(d.taskDefinition)} ${esc(d.status)}/${esc(d.rolloutState)} ${esc(d.rolloutStateReason)}</span>`).join('') + '<br>' +
    (s.tasks || []).map(t => `<span class="stage ${esc(t.healthStatus)}">task ${esc(t.taskId.slice(0, 6))} r${esc(t.revision)} :${esc(t.port)}</span>`).join('') + '</p>').join('') || 'No services.';
}
function pick(name) { selected = name; executions(); }
function tail(id) {
  if (logSource) logSource.close();
  $('log').textContent = ''; $('logname').textContent = id;
  logSource = new EventSource('/api/v1/builds/' + encodeURIComponent(id) + '/log');
  logSource.onmessage = e => { $('log').textContent += e.data + '\n'; $('log').scrollTop = 1e9; };
  logSource.addEventListener('end', () => logSource.close());
}
// No inline handlers (the page's Content-Security-Policy forbids them): one listener reads
// the data attributes.
document.addEventListener('click', ev => {
  const a = ev.target.closest('a[data-pick], a[data-tail]');
  if (!a) return;
  ev.preventDefault();
  if (a.dataset.pick !== undefined) pick(a.dataset.pick); else tail(a.dataset.tail);
});
let pending = null;
function refresh() { clearTimeout(pending); pending = setTimeout(() => { pipelines(); services(); }, 150); }
const events = new EventSource('/api/v1/events');
events.onopen = () => $('live').textContent = 'live';
events.onerror = () => $('live').textContent = 'reconnecting…';
for (const t of ['execution', 'stage', 'action', 'build', 'service']) events.addEventListener(t, refresh);
refresh();
)JS";
  return kScript;
}

std::string_view WebUiStyle() {
  static constexpr std::string_view kStyle = R"CSS(
body{font:14px system-ui,sans-serif;margin:0;background:#f6f6f4;color:#222}
header{background:#2b2b2b;color:#fff;padding:10px 20px;font-weight:600}
main{display:grid;grid-template-columns:1fr 1fr;gap:16px;padding:16px}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px}
h2{font-size:15px;margin:0 0 8px}
.stage{display:inline-block;margin:2px 6px 2px 0;padding:3px 8px;border-radius:4px;background:#eee}
.Succeeded,.COMPLETED,.HEALTHY,.SUCCEEDED{background:#d7f0d7}.Failed,.FAILED,.UNHEALTHY{background:#f6d2d2}
.InProgress,.IN_PROGRESS,.Queued,.QUEUED,.Stopping{background:#fff1c2}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eee}
pre{background:#111;color:#ddd;padding:8px;max-height:320px;overflow:auto;font-size:12px}
a{color:#0b5cad;cursor:pointer}
.live{font-weight:400;opacity:.7}
)CSS";
  return kStyle;
}

std::string_view WebUiPolicy() {
  return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
         "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
}

}  // namespace kiln::server
