// redsim dashboard: plays a recorded run back. Everything the page shows is
// derived from the recording embedded as JSON (see src/dashboard/data.rs);
// times are simulated microseconds.
"use strict";

const D = JSON.parse(document.getElementById("redsim-data").textContent);
const N = D.nodes.length; // node index N is "sim": events about the network
const names = D.nodes.map((n) => n.name).concat(["sim"]);
const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- helpers

/** "25.347 s" */
function fmt(us) {
  return (us / 1e6).toFixed(3) + " s";
}

/** "340 ms", "2.1 s" */
function fmtSpan(us) {
  const a = Math.abs(us);
  if (a < 1000) return a + " µs";
  if (a < 1e6) return Math.round(a / 1000) + " ms";
  return (a / 1e6).toFixed(a < 1e7 ? 2 : 1) + " s";
}

/** Index of the last element with key(x) <= t, or -1. */
function lastAtOrBefore(arr, t, key) {
  let lo = 0, hi = arr.length - 1, ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(arr[mid]) <= t) { ans = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return ans;
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// ------------------------------------------------------- the recording

// Everything below is derived from D by derive(): once for a recording,
// and again after each update of a live lab's page (see merge()).
let events = [], messages = [], streams = [], tracks = [], stepTimes = [];
let pauseIntervals = [], downIntervals = [];
// A node by its inside address, or the one its host publishes it at.
const addrToNode = new Map(D.nodes.flatMap((n, i) => [[n.host + ":" + n.port, i]].concat(n.published ? [[n.published, i]] : [])));

function derive() {
  events = D.events.map((e) => ({ t: e[0], node: e[1], source: e[2], level: e[3], name: e[4], detail: e[5] }));
  messages = D.messages.map((m) => ({
    from: m[0], to: m[1], kind: m[2], sent: m[3], arrived: m[4], fate: m[5], held: m[6] === 1, bytes: m[7], note: m[8],
  }));
  streams = D.streams.map((s) => ({
    from: s[0], to: s[1], kind: s[2], t: s[3], count: s[4], bytes: s[5], undelivered: s[6], maxDelay: s[7],
  }));
  // Samples hold only changed fields: expand them into full states once.
  tracks = D.samples.map((samples) => {
    const out = [];
    let cur = {};
    for (const [t, changed] of samples) {
      cur = Object.assign({}, cur);
      for (const k of Object.keys(changed)) {
        if (changed[k] === null) delete cur[k]; else cur[k] = changed[k];
      }
      out.push({ t, f: cur, changed });
    }
    return out;
  });
  stepTimes = [...new Set(events.filter((e) => e.level !== "-").map((e) => e.t))].sort((a, b) => a - b);
  pauseIntervals = D.nodes.map((_, n) => nodePauses(n));
  downIntervals = D.nodes.map((_, n) => nodeDowntime(n));
}

/** The sampled state of node n at time t (the last sample at or before t). */
function sampleAt(n, t) {
  const tr = tracks[n];
  const i = lastAtOrBefore(tr, t, (s) => s.t);
  return i < 0 ? { t: 0, f: {}, changed: {} } : tr[i];
}

/** The intervals [from, to) node n spent stopped (SIGSTOP). */
function nodePauses(n) {
  const out = [];
  let start = null;
  for (const e of events) {
    if (e.node !== n || e.source !== "sim") continue;
    if (e.name === "pause" && start === null) start = e.t;
    else if (["resume", "kill", "crash", "shutdown", "restart"].includes(e.name) && start !== null) {
      out.push([start, e.t]);
      start = null;
    }
  }
  if (start !== null) out.push([start, Infinity]);
  return out;
}

function pausedAt(n, t) {
  return pauseIntervals[n].some(([a, b]) => a <= t && t < b);
}

/** How a node looks at t: master, replica, sentinel, client, down, paused. */
function look(n, t) {
  const f = sampleAt(n, t).f;
  if (f.status === "down") return "down";
  if (pausedAt(n, t)) return "paused";
  if (f.role === "master") return "master";
  if (f.role === "slave") return "replica";
  return D.nodes[n].kind === "redis" ? "down" : D.nodes[n].kind;
}

/** A cluster's masters at t by the slots each serves in its own view
 * (`cluster_slots`, "0-5460 10923"), as [first, last] ranges. */
function slotRanges(text) {
  return String(text || "").split(" ").filter((r) => r).map((r) => {
    const [a, b] = r.split("-").map(Number);
    return [a, b === undefined ? a : b];
  });
}

/** Masters that claim some slot another running master claims too: two
 * writable masters for the same data, the cluster's split brain. */
function overlappingMasters(t) {
  const masters = D.nodes.map((_, n) => n).filter((n) => look(n, t) === "master");
  const claims = masters.map((n) => [n, slotRanges(sampleAt(n, t).f.cluster_slots)]);
  const out = new Set();
  for (let i = 0; i < claims.length; i++) {
    for (let j = i + 1; j < claims.length; j++) {
      const hit = claims[i][1].some(([a, b]) => claims[j][1].some(([c, d]) => a <= d && c <= b));
      if (hit) { out.add(claims[i][0]); out.add(claims[j][0]); }
    }
  }
  return out;
}

function blockedAt(t) {
  const i = lastAtOrBefore(D.network, t, (s) => s.t);
  return i < 0 ? [] : D.network[i].blocked;
}

const COLORS = {
  master: "#d92d20", replica: "#f79009", sentinel: "#2e90fa", client: "#12b76a", down: "#98a2b3", paused: "#fdb022",
  operator: "#7a5af8",
};
const CATEGORY_COLORS = {
  ping: "#9aa5b1", info: "#2e90fa", hello: "#12b76a", vote: "#7a5af8", slaveof: "#f04438",
  repl: "#f79009", client: "#0e9384", other: "#667085",
};

/** Same categories as the space-time diagram (src/dashboard/spacetime.rs). */
function category(kind) {
  if (kind === "PING" || kind === "+PONG") return "ping";
  if (kind === "INFO" || kind === "INFO reply") return "info";
  if (kind === "hello" || kind === "stream PUBLISH") return "hello";
  if (kind === "is-master-down-by-addr" || kind === "is-master-down reply") return "vote";
  if (kind === "SLAVEOF" || kind === "SLAVEOF NO ONE") return "slaveof";
  if (/^(PSYNC|\+FULLRESYNC|\+CONTINUE|RDB|REPLCONF|stream)/.test(kind)) return "repl";
  if (/^(get-master-addr-by-name|master-addr reply|ROLE|SUBSCRIBE|message)/.test(kind)) return "client";
  return "other";
}

// ------------------------------------------------------ playback state

const P = { t: 0, playing: false, speed: 10, max: false, selected: null, span: 10e6, last: 0, ended: false, timer: null,
  follow: false };

function setTime(t) {
  P.t = Math.max(0, Math.min(D.duration, Math.round(t)));
  P.ended = P.t >= D.duration;
  render();
}

/** Schedules the next frame; only one is ever pending. */
function schedule() {
  clearTimeout(P.timer);
  P.timer = P.playing ? setTimeout(tick, 16) : null;
}

function play() {
  if (P.t >= D.duration) P.t = 0;
  P.playing = true;
  P.last = performance.now();
  schedule();
  render();
}

function pause() {
  P.playing = false;
  schedule();
  render();
}

function tick() {
  if (!P.playing) return;
  const now = performance.now();
  const wall = Math.max(0, now - P.last);
  P.last = now;
  // "max" plays the run in about sixty frames whatever its length.
  const dt = P.max ? Math.ceil(D.duration / 60) : wall * 1000 * P.speed;
  const t = Math.min(D.duration, P.t + dt);
  if (t >= D.duration) P.playing = false;
  schedule();
  setTime(t);
}

function step(dir) {
  const t = P.t;
  let next;
  if (dir > 0) next = stepTimes.find((x) => x > t);
  else {
    const i = lastAtOrBefore(stepTimes, t - 1, (x) => x);
    next = i >= 0 ? stepTimes[i] : 0;
  }
  pause();
  setTime(next === undefined ? D.duration : next);
}

// ------------------------------------------------------------ topology

/** Node positions: Redis servers on top, Sentinels below, clients last;
 * rows of at most six, so larger topologies wrap instead of overlapping. */
const TOPO_W = 520;
const topo = (() => {
  const pos = [];
  const shards = [];
  let y = 45;
  // A cluster's shards side by side (at most four to a row), each a
  // column with the node created as its master on top.
  const ids = [...new Set(D.nodes.filter((n) => n.shard !== null && n.shard !== undefined).map((n) => n.shard))].sort((a, b) => a - b);
  for (let r = 0; r < ids.length; r += 4) {
    const row = ids.slice(r, r + 4);
    const colW = TOPO_W / row.length;
    let rows = 0;
    row.forEach((id, k) => {
      const members = D.nodes.map((n, i) => [n, i]).filter(([n]) => n.shard === id);
      members.forEach(([, i], m) => { pos[i] = { x: colW * (k + 0.5), y: y + 38 + m * 78 }; });
      rows = Math.max(rows, members.length);
      shards.push({ id, x: colW * k + 5, w: colW - 10, y: y - 2, members: members.map(([, i]) => i) });
    });
    const h = 30 + rows * 78;
    shards.filter((g) => g.y === y - 2).forEach((g) => { g.h = h; });
    y += h + 12;
  }
  if (ids.length) y -= 25;
  for (const kind of ["redis", "sentinel", "client"]) {
    const members = D.nodes.map((n, i) => [n, i]).filter(([n]) => pos[D.nodes.indexOf(n)] === undefined &&
      (kind === "redis" ? n.kind === "redis" : kind === "client" ? n.kind === "client" || n.kind === "operator" : n.kind === kind));
    for (let r = 0; r < members.length; r += 6) {
      const row = members.slice(r, r + 6);
      y += 80;
      row.forEach(([, i], k) => { pos[i] = { x: (TOPO_W * (k + 1)) / (row.length + 1), y: y - 55 }; });
      y += 25;
    }
  }
  return { pos, shards, height: y - 20 };
})();
const topoPos = topo.pos;

function arrowLine(a, b, shorten) {
  const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
  const ux = dx / len, uy = dy / len;
  return { x1: a.x + ux * shorten, y1: a.y + uy * shorten, x2: b.x - ux * shorten, y2: b.y - uy * shorten };
}

function renderTopology(t) {
  const svg = [];
  svg.push(`<svg viewBox="0 0 ${TOPO_W} ${topo.height}" role="img" aria-label="topology">`);
  svg.push('<defs><marker id="tp-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto">' +
    '<path d="M0,0L10,5L0,10z" fill="#52606d"/></marker></defs>');
  const states = D.nodes.map((_, n) => sampleAt(n, t).f);
  // A cluster's shards: a box each, named by the slots its masters serve.
  for (const g of topo.shards) {
    const served = g.members.filter((n) => look(n, t) === "master" && states[n].cluster_slots);
    const slots = served.map((n) => states[n].cluster_slots).join(" | ");
    svg.push(`<rect x="${g.x}" y="${g.y}" width="${g.w}" height="${g.h}" rx="8" fill="#f8fafc" stroke="#cbd2d9"/>` +
      `<text x="${g.x + g.w / 2}" y="${g.y + 14}" text-anchor="middle" font-size="11" fill="#52606d">` +
      `${esc(slots ? "slots " + slots : "no slots served")}</text>`);
  }
  // Sentinels watch the master they monitor.
  D.nodes.forEach((node, n) => {
    const f = states[n];
    if (node.kind === "sentinel" && f.status === "running" && f.master_node) {
      const m = names.indexOf(f.master_node);
      if (m < 0 || m >= N) return;
      const l = arrowLine(topoPos[n], topoPos[m], 26);
      const col = f.master_status === "ok" ? "#b2ddff" : "#7a5af8";
      svg.push(`<line x1="${l.x1}" y1="${l.y1}" x2="${l.x2}" y2="${l.y2}" stroke="${col}" stroke-width="1.5"/>`);
    }
  });
  // Clients point at the node they last sent to.
  D.nodes.forEach((node, n) => {
    const f = states[n];
    if (node.kind === "client" && f.target) {
      const m = names.indexOf(f.target);
      if (m < 0 || m >= N) return;
      const l = arrowLine(topoPos[n], topoPos[m], 26);
      svg.push(`<line x1="${l.x1}" y1="${l.y1}" x2="${l.x2}" y2="${l.y2}" stroke="#12b76a" stroke-width="1.5" stroke-dasharray="3 3" marker-end="url(#tp-arrow)"/>`);
    }
  });
  // Replication links, replica to master: solid when up, dashed when down.
  D.nodes.forEach((node, n) => {
    const f = states[n];
    if (node.kind === "redis" && f.status === "running" && f.master_node) {
      const m = names.indexOf(f.master_node);
      if (m < 0 || m >= N) return;
      const l = arrowLine(topoPos[n], topoPos[m], 26);
      const up = f.master_link_status === "up";
      svg.push(`<line x1="${l.x1}" y1="${l.y1}" x2="${l.x2}" y2="${l.y2}" stroke="${up ? "#f79009" : "#98a2b3"}" stroke-width="${up ? 3 : 2}"` +
        `${up ? "" : ' stroke-dasharray="6 4"'} marker-end="url(#tp-arrow)"><title>${esc(names[n])} replicates from ${esc(f.master_node)} (link ${up ? "up" : "down"})</title></line>`);
    }
  });
  // Partitions: every blocked pair gets a red dashed line with a cross.
  const seen = new Set();
  for (const [a, b] of blockedAt(t)) {
    const key = Math.min(a, b) + "-" + Math.max(a, b);
    if (seen.has(key)) continue;
    seen.add(key);
    const oneWay = !blockedAt(t).some(([x, y]) => x === b && y === a);
    const l = arrowLine(topoPos[a], topoPos[b], 26);
    const mx = (l.x1 + l.x2) / 2, my = (l.y1 + l.y2) / 2;
    svg.push(`<line x1="${l.x1}" y1="${l.y1}" x2="${l.x2}" y2="${l.y2}" stroke="#d92d20" stroke-width="1.2" stroke-dasharray="5 4" opacity="0.7"/>` +
      `<text x="${mx}" y="${my + 4}" text-anchor="middle" fill="#d92d20" font-size="12">${oneWay ? "⇸" : "✕"}</text>`);
  }
  // Recent control messages, fading with age; the trail grows with speed.
  const trail = Math.min(2e6, Math.max(150e3, P.speed * 250e3));
  const i0 = lastAtOrBefore(messages, t - trail, (m) => m.sent) + 1;
  const i1 = lastAtOrBefore(messages, t, (m) => m.sent);
  for (let i = i0; i <= i1; i++) {
    const m = messages[i];
    const age = (t - m.sent) / trail;
    const cat = category(m.kind);
    const l = arrowLine(topoPos[m.from], topoPos[m.to], 28);
    const pending = m.arrived === null || m.arrived > t;
    const bad = !pending && (m.fate === "lost" || m.fate === "reset");
    svg.push(`<line x1="${l.x1}" y1="${l.y1}" x2="${l.x2}" y2="${l.y2}" stroke="${bad ? "#d92d20" : CATEGORY_COLORS[cat]}"` +
      ` stroke-width="2" opacity="${(1 - age).toFixed(2)}"${pending ? ' stroke-dasharray="2 3"' : ""} marker-end="url(#tp-arrow)">` +
      `<title>${esc(m.kind)} ${esc(names[m.from])} → ${esc(names[m.to])} ${esc(m.note)}</title></line>`);
  }
  // The write stream: bands whose width follows the messages per bucket.
  const s0 = lastAtOrBefore(streams, t - D.sample_every, (s) => s.t) + 1;
  const s1 = lastAtOrBefore(streams, t, (s) => s.t);
  const flows = new Map();
  for (let i = s0; i <= s1; i++) {
    const s = streams[i];
    const key = s.from + "-" + s.to;
    flows.set(key, (flows.get(key) || 0) + s.count);
  }
  for (const [key, count] of flows) {
    const [a, b] = key.split("-").map(Number);
    if (D.nodes[a].kind === "client" || D.nodes[b].kind === "client") continue;
    const l = arrowLine(topoPos[a], topoPos[b], 26);
    svg.push(`<line x1="${l.x1}" y1="${l.y1}" x2="${l.x2}" y2="${l.y2}" stroke="#f79009" stroke-width="${Math.min(9, 1 + Math.sqrt(count))}" opacity="0.35"/>`);
  }
  // Nodes.
  D.nodes.forEach((node, n) => {
    const p = topoPos[n], lk = look(n, t), f = states[n];
    const sel = P.selected === n;
    const ring = node.kind === "sentinel" && f.failover_state && f.failover_state !== "none" ? "#fdb022" : sel ? "#102a43" : "#ffffff";
    svg.push(`<g class="node" data-node="${n}" style="cursor:pointer">` +
      `<circle cx="${p.x}" cy="${p.y}" r="22" fill="${COLORS[lk]}" stroke="${ring}" stroke-width="${sel || ring !== "#ffffff" ? 4 : 2}"/>`);
    if (lk === "down") svg.push(`<text x="${p.x}" y="${p.y + 6}" text-anchor="middle" font-size="18" fill="#ffffff">✕</text>`);
    else if (lk === "paused") svg.push(`<text x="${p.x}" y="${p.y + 5}" text-anchor="middle" font-size="14" fill="#ffffff">❚❚</text>`);
    else {
      const inner = node.kind === "sentinel" ? "e" + (f.current_epoch || "0") : node.kind === "client" ? "C" :
        node.kind === "operator" ? ">_" : lk === "master" ? "M" : "S";
      svg.push(`<text x="${p.x}" y="${p.y + 5}" text-anchor="middle" font-size="13" font-weight="700" fill="#ffffff">${esc(inner)}</text>`);
    }
    let sub = "";
    if (node.kind === "redis" && f.master_repl_offset) sub = "off " + f.master_repl_offset;
    if (node.kind === "sentinel" && f.master_status && f.master_status !== "ok") sub = f.master_status;
    const halo = 'stroke="#ffffff" stroke-width="3" paint-order="stroke"';
    svg.push(`<text x="${p.x}" y="${p.y + 36}" text-anchor="middle" font-size="12" font-weight="600" fill="#1f2933" ${halo}>${esc(node.name)}</text>`);
    if (sub) svg.push(`<text x="${p.x}" y="${p.y + 49}" text-anchor="middle" font-size="10" fill="#52606d" ${halo}>${esc(sub)}</text>`);
    svg.push(`<title>${esc(node.name)}: ${lk}</title></g>`);
  });
  svg.push("</svg>");
  $("topology").innerHTML = svg.join("");
}

// ----------------------------------------------------------- node panel

function renderNode(t) {
  const n = P.selected;
  if (n === null) return;
  const node = D.nodes[n];
  const s = sampleAt(n, t);
  $("node-title").textContent = `${node.name} (${node.kind}, ${node.host}:${node.port}) — ${look(n, t)}`;
  const rows = [], timers = [];
  for (const [k, v] of Object.entries(s.f)) {
    if (k.startsWith("timer:")) { timers.push([k.slice(6), Number(v)]); continue; }
    const changed = Object.prototype.hasOwnProperty.call(s.changed, k) && s.t > 0;
    rows.push(`<tr${changed ? ' class="changed"' : ""}><td class="k">${esc(k)}</td><td>${esc(v)}</td></tr>`);
  }
  let html = "";
  if (D.live) {
    // The faults this node can take now, as the lab's prompt words them.
    const buttons = nodeActions(n, t).map(([label, line]) =>
      `<button data-action="${esc(line)}" title="${esc(line)}">${esc(label)}</button>`);
    if (buttons.length) html += `<div class="actions">${buttons.join(" ")}</div>`;
  }
  if (timers.length) {
    html += "<h3>Timers</h3><table>";
    for (const [k, at] of timers) {
      const d = at - t;
      const when = d >= 0 ? `in ${fmtSpan(d)}` : `due ${fmtSpan(-d)} ago`;
      html += `<tr><td class="k">${esc(k)}</td><td class="${d < 1e6 ? "timer-soon" : ""}">${when} (at ${fmt(at)})</td></tr>`;
    }
    html += "</table>";
  }
  html += `<h3>State <span class="muted small">sampled every ${fmtSpan(D.sample_every)}; last changed at ${fmt(s.t)} (highlighted)</span></h3>`;
  html += `<table>${rows.join("")}</table>`;
  const recent = [];
  for (let i = lastAtOrBefore(events, t, (e) => e.t); i >= 0 && recent.length < 6; i--) {
    if (events[i].node === n) recent.push(events[i]);
  }
  if (recent.length) {
    html += "<h3>Latest events</h3><table>";
    for (const e of recent) html += `<tr><td class="k">${fmt(e.t)}</td><td>${esc(e.source === "sentinel" ? e.name + " " + e.detail : e.detail)}</td></tr>`;
    html += "</table>";
  }
  $("node-detail").innerHTML = html;
  $("node-detail").classList.remove("muted");
}

// ---------------------------------------------------------------- facts

function promotedAt(t) {
  // Sentinel runs: the new address in the last +switch-master.
  let promoted = null;
  for (const e of events) {
    if (e.t > t) break;
    if (e.name === "+switch-master") {
      const f = e.detail.split(" ");
      const n = addrToNode.get(f[3] + ":" + f[4]);
      if (n !== undefined) promoted = names[n];
    }
  }
  if (promoted !== null) return promoted;
  // Without Sentinel: the last replica turned into a master (by an
  // operator's REPLICAOF NO ONE, or by winning a cluster election).
  for (const e of events) {
    if (e.t > t) break;
    if (e.name === "MASTER MODE enabled" ||
        e.name === "Failover election won: I'm the new master.") {
      promoted = names[e.node];
    }
  }
  return promoted;
}

function clientTotals(t) {
  const tot = { acked: 0, refused: 0, indeterminate: 0 };
  for (const b of D.client.buckets) {
    if (b[0] > t) break;
    tot.acked += b[1]; tot.refused += b[2]; tot.indeterminate += b[3];
  }
  return tot;
}

function renderFacts(t) {
  const masters = D.nodes.map((_, n) => n).filter((n) => look(n, t) === "master");
  // A cluster has a master per shard: only two claiming the same slots are
  // an alarm. Elsewhere any second master is.
  const clash = D.summary.cluster ? overlappingMasters(t) : new Set(masters.length > 1 ? masters : []);
  $("masters").textContent = masters.length ? masters.map((n) => names[n] + (clash.has(n) ? " (!)" : "")).join(", ") : "none";
  $("masters").style.color = clash.size ? "#b42318" : "";
  $("masters").title = clash.size ? "two masters accept writes for the same data" : "";
  $("promoted").textContent = promotedAt(t) || (t >= D.duration ? "none" : "none yet");
  const tot = clientTotals(t);
  $("acked-writes").textContent = tot.acked;
  $("refused-writes").textContent = tot.refused;
  $("indeterminate-writes").textContent = tot.indeterminate;
  $("lost-writes").textContent = D.client.lost.filter((l) => l.acked_at <= t).length;
  const s = D.summary, parts = [];
  const mark = (label, at) => { if (at !== null && at <= t) parts.push(`${label} +${fmtSpan(at - s.fault)}`); };
  if (s.fault !== null && s.fault <= t) {
    parts.push(`fault at ${fmt(s.fault)}`);
    if (s.cluster) {
      mark("PFAIL", s.pfail); mark("FAIL", s.fail); mark("election", s.election); mark("won", s.election_won);
    } else {
      mark("odown", s.odown); mark("leader", s.elected); mark("switch", s.switch_master);
    }
  }
  $("milestones").textContent = parts.length ? parts.join(", ") : "-";
  const gap = s.unavailable;
  $("unavailable").textContent = gap ? `${fmtSpan(gap[1] - gap[0])} (${fmt(gap[0])} to ${fmt(gap[1])})` : "none";
  $("unavailable").style.color = gap && gap[0] <= t && t <= gap[1] ? "#b42318" : "";
  const state = D.live ? (P.follow ? "live" : "paused") : P.playing ? "playing" : P.ended ? "ended" : "paused";
  $("playback-state").textContent = state;
  document.body.dataset.playback = state;
}

// ---------------------------------------------------------------- cards

function renderCards(t) {
  const out = [];
  D.nodes.forEach((node, n) => {
    if (node.kind === "client") return;
    const f = sampleAt(n, t).f, lk = look(n, t);
    let body = "";
    if (node.kind === "operator") {
      // What each redis-cli session (an outside client's, in the lab) last
      // sent, and the first line of what came back.
      const sessions = Object.keys(f).filter((k) => k.startsWith("session:"));
      if (!sessions.length) return;
      body = sessions.map((k) => `${esc(k.slice(8))}@${esc(f[k])}`).join("<br>");
    } else if (lk === "down") body = "not running";
    else if (node.kind === "redis") {
      body = `role:${esc(f.role)}${f.master_node ? " of " + esc(f.master_node) + " (" + esc(f.master_link_status) + ")" : ""}<br>` +
        `replid:${esc((f.master_replid || "").slice(0, 8))} replid2:${esc((f.master_replid2 || "").slice(0, 8))}<br>` +
        `master_repl_offset:${esc(f.master_repl_offset)}<br>`;
      const lags = Object.keys(f).filter((k) => /^slave\d+$/.test(k)).map((k) => {
        const m = /ip=([^,]*),port=(\d+),state=([^,]*),offset=(\d+),lag=(\d+)/.exec(f[k]);
        if (!m) return esc(f[k]);
        const who = addrToNode.has(m[1] + ":" + m[2]) ? names[addrToNode.get(m[1] + ":" + m[2])] : m[1];
        return `${esc(who)} ${esc(m[3])} off ${esc(m[4])} lag ${esc(m[5])}s`;
      });
      body += lags.length ? lags.join("<br>") : `connected_slaves:${esc(f.connected_slaves || 0)}`;
    } else {
      body = `epoch:${esc(f.current_epoch)} config:${esc(f.config_epoch)}<br>master:${esc(f.master_node)} ${esc(f.master_status)}` +
        `<br>vote:${esc(f.vote)}<br>failover:${esc(f.failover_state)}${f.tilt === "1" ? " TILT" : ""}`;
    }
    out.push(`<div class="card ${lk}${P.selected === n ? " sel" : ""}" data-node="${n}"><b>${esc(node.name)}</b> ${lk}<br>${body}</div>`);
  });
  $("cards").innerHTML = out.join("");
}

// ------------------------------------------------------------ swimlanes

function canvasCtx(canvas) {
  const r = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 800, h = canvas.clientHeight || 200;
  if (canvas.width !== Math.round(w * r) || canvas.height !== Math.round(h * r)) {
    canvas.width = Math.round(w * r);
    canvas.height = Math.round(h * r);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(r, 0, 0, r, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

/** The intervals [from, to) in which node n is down, from its samples. */
function nodeDowntime(n) {
  const out = [];
  let start = null;
  for (const s of tracks[n]) {
    const down = s.f.status === "down";
    if (down && start === null) start = s.t;
    if (!down && start !== null) { out.push([start, s.t]); start = null; }
  }
  if (start !== null) out.push([start, D.duration]);
  return out;
}

/** What the timeline drew, as segments with a description, for tooltips. */
let laneHits = [];

function describeMessage(m) {
  const fate = m.arrived === null ? m.fate : `${m.fate} at ${fmt(m.arrived)}`;
  return `${m.kind} ${names[m.from]} → ${names[m.to]} ${m.note}\nsent ${fmt(m.sent)}, ${m.held ? "held by a partition, " : ""}${fate}`;
}

function renderLanes(t) {
  laneHits = [];
  const canvas = $("lanes");
  const laneH = Math.max(18, Math.min(34, 260 / D.nodes.length));
  canvas.style.height = (laneH * D.nodes.length + 28) + "px";
  const { ctx, w } = canvasCtx(canvas);
  const left = 92, right = w - 10;
  const span = P.span || D.duration;
  // The cursor sits at 80% of the width; the future is left blank.
  let from = P.span ? t - span * 0.8 : 0;
  const to = from + span;
  const x = (us) => left + ((us - from) / span) * (right - left);
  const y = (n) => 14 + n * laneH + laneH / 2;
  ctx.font = "11px ui-monospace, Menlo, Consolas, monospace";
  D.nodes.forEach((node, n) => {
    ctx.fillStyle = n % 2 ? "#f8fafc" : "#ffffff";
    ctx.fillRect(left, y(n) - laneH / 2, right - left, laneH);
    for (const [a, b] of downIntervals[n]) {
      if (b < from || a > Math.min(t, to)) continue;
      ctx.fillStyle = "rgba(152,162,179,0.35)";
      ctx.fillRect(x(Math.max(a, from)), y(n) - laneH / 2, x(Math.min(b, t)) - x(Math.max(a, from)), laneH);
    }
    ctx.fillStyle = COLORS[look(n, t)];
    ctx.beginPath();
    ctx.arc(8, y(n), 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = "#1f2933";
    ctx.fillText(node.name, 16, y(n) + 4);
  });
  // Partitions: shade the lanes of partitioned nodes.
  D.network.forEach((s, i) => {
    const end = i + 1 < D.network.length ? D.network[i + 1].t : D.duration;
    if (!s.blocked.length || end < from || s.t > t) return;
    const involved = new Set(s.blocked.flat());
    ctx.fillStyle = "rgba(217,45,32,0.08)";
    for (const n of involved) ctx.fillRect(x(Math.max(s.t, from)), y(n) - laneH / 2, x(Math.min(end, t)) - x(Math.max(s.t, from)), laneH);
  });
  // Bulk traffic: one faint band per bucket between two lanes.
  for (let i = lastAtOrBefore(streams, from, (s) => s.t) + 1; i < streams.length && streams[i].t <= t; i++) {
    const s = streams[i];
    ctx.strokeStyle = s.undelivered ? "rgba(217,45,32,0.35)" : "rgba(247,144,9,0.14)";
    ctx.lineWidth = Math.min(3, 0.5 + Math.sqrt(s.count) / 3);
    ctx.beginPath();
    ctx.moveTo(x(s.t), y(s.from));
    ctx.lineTo(x(s.t + Math.max(s.maxDelay, 1)), y(s.to));
    ctx.stroke();
  }
  // Control messages as arrows from send to delivery.
  ctx.lineWidth = 1;
  const mStart = lastAtOrBefore(messages, from - 2e6, (m) => m.sent) + 1;
  for (let i = mStart; i < messages.length && messages[i].sent <= t; i++) {
    const m = messages[i];
    const arrivedYet = m.arrived !== null && m.arrived <= t;
    if ((arrivedYet ? m.arrived : t) < from) continue;
    const bad = arrivedYet && (m.fate === "lost" || m.fate === "reset");
    ctx.strokeStyle = bad ? "#d92d20" : CATEGORY_COLORS[category(m.kind)];
    ctx.setLineDash(m.held || !arrivedYet ? [3, 3] : []);
    const x1 = x(m.sent), y1 = y(m.from);
    let x2 = x(arrivedYet ? m.arrived : t), y2 = y(m.to);
    if (!arrivedYet && (m.held || t - m.sent > 50e3)) {
      // Held by a partition (barred red), or waiting for a host that does
      // not answer (barred grey): a short stub towards the receiver.
      x2 = x1 + 6;
      y2 = y1 + (y2 - y1) * 0.3;
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.strokeStyle = m.held ? "#d92d20" : "#7b8794";
      ctx.beginPath();
      ctx.moveTo(x2 - 3, y2);
      ctx.lineTo(x2 + 3, y2);
      ctx.stroke();
      laneHits.push({ x1, y1, x2, y2, text: describeMessage(m) });
      continue;
    }
    laneHits.push({ x1, y1, x2, y2, text: describeMessage(m) });
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    ctx.stroke();
    const a = Math.atan2(y2 - y1, x2 - x1);
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.moveTo(x2, y2);
    ctx.lineTo(x2 - 5 * Math.cos(a - 0.4), y2 - 5 * Math.sin(a - 0.4));
    ctx.lineTo(x2 - 5 * Math.cos(a + 0.4), y2 - 5 * Math.sin(a + 0.4));
    ctx.closePath();
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fill();
  }
  ctx.setLineDash([]);
  // Trace events as ticks, with labels where there is room.
  const lastLabel = new Array(N + 1).fill(-1e9);
  for (let i = lastAtOrBefore(events, from, (e) => e.t) + 1; i < events.length && events[i].t <= t; i++) {
    const e = events[i];
    const lanes = e.node === N ? D.nodes.map((_, k) => k) : [e.node];
    const px = x(e.t);
    ctx.fillStyle = e.source === "sim" ? "#d92d20" : e.source === "sentinel" ? "#175cd3" : e.level === "-" ? "#9aa5b1" : "#1f2933";
    if (e.node === N) {
      ctx.fillRect(px - 1, 14, 2, laneH * D.nodes.length);
      ctx.fillText(e.name, px + 3, 11);
      continue;
    }
    for (const n of lanes) ctx.fillRect(px - 1, y(n) - laneH / 2 + 3, 2, laneH - 6);
    laneHits.push({
      x1: px, y1: y(e.node) - laneH / 2, x2: px, y2: y(e.node) + laneH / 2,
      text: `${fmt(e.t)} ${names[e.node]}\n${e.source === "sentinel" ? e.name + " " + e.detail : e.detail}`,
    });
    if (e.level !== "-" && px - lastLabel[e.node] > 70) {
      const label = e.source === "sentinel" || e.source === "sim" ? e.name : e.name.slice(0, 22);
      ctx.fillText(label, px + 3, y(e.node) - laneH / 2 + 10);
      lastLabel[e.node] = px + ctx.measureText(label).width;
    }
  }
  // Time axis and cursor.
  ctx.fillStyle = "#7b8794";
  const bottom = 14 + laneH * D.nodes.length;
  const stepUs = [1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 6e7].find((s) => span / s <= 12) || 6e7;
  for (let g = Math.ceil(Math.max(0, from) / stepUs) * stepUs; g <= to; g += stepUs) {
    ctx.fillRect(x(g), bottom, 1, 4);
    ctx.fillText((g / 1e6).toFixed(stepUs < 1e6 ? 1 : 0) + "s", x(g) - 8, bottom + 14);
  }
  ctx.fillStyle = "rgba(16,42,67,0.05)";
  ctx.fillRect(x(t), 14, right - x(t), bottom - 14);
  ctx.fillStyle = "#102a43";
  ctx.fillRect(x(t) - 1, 10, 2, bottom - 6);
}

/** Distance from point (px, py) to the segment of a hit. */
function distance(h, px, py) {
  const dx = h.x2 - h.x1, dy = h.y2 - h.y1;
  const len2 = dx * dx + dy * dy;
  const k = len2 ? Math.max(0, Math.min(1, ((px - h.x1) * dx + (py - h.y1) * dy) / len2)) : 0;
  return Math.hypot(px - (h.x1 + k * dx), py - (h.y1 + k * dy));
}

function laneTooltip(e) {
  const r = $("lanes").getBoundingClientRect();
  const px = e.clientX - r.left, py = e.clientY - r.top;
  let best = null, bestD = 5;
  for (const h of laneHits) {
    const d = distance(h, px, py);
    if (d <= bestD) { best = h; bestD = d; }
  }
  const tip = $("lane-tip");
  if (!best) { tip.hidden = true; return; }
  tip.textContent = best.text;
  tip.hidden = false;
  tip.style.left = Math.min(px + 12, r.width - 320) + "px";
  tip.style.top = py + 14 + "px";
}

// ------------------------------------------------------------ event log

let logShown = -2;
function renderLog(t) {
  const verbose = $("verbose").checked;
  const upto = lastAtOrBefore(events, t, (e) => e.t);
  const key = upto * 2 + (verbose ? 1 : 0);
  if (key === logShown) return;
  logShown = key;
  const lines = [];
  for (let i = upto; i >= 0 && lines.length < 400; i--) {
    const e = events[i];
    if (!verbose && e.level === "-") continue;
    const text = e.source === "sentinel" ? `${e.name} ${e.detail}` : e.detail;
    const cls = e.source === "sim" ? "ev-sim" : e.level === "-" ? "ev-verbose" : "ev-" + e.source;
    lines.push(`<div class="${cls}">${fmt(e.t).padStart(10)} ${esc(names[e.node].padEnd(11))} ${e.level} ${esc(text)}</div>`);
  }
  const log = $("log");
  log.innerHTML = lines.reverse().join("");
  log.scrollTop = log.scrollHeight;
}

// --------------------------------------------------------------- client

function renderClient(t) {
  const { ctx, w, h } = canvasCtx($("client-chart"));
  const buckets = D.client.buckets;
  let peak = 1;
  for (const b of buckets) peak = Math.max(peak, b[1] + b[2] + b[3]);
  const x = (us) => 4 + (us / D.duration) * (w - 8);
  const bw = Math.max(1, x(D.client.bucket) - x(0));
  for (const b of buckets) {
    let y0 = h - 14;
    const parts = [[b[1], "#12b76a"], [b[2], "#d92d20"], [b[3], "#fdb022"]];
    for (const [v, c] of parts) {
      const hh = (v / peak) * (h - 20);
      ctx.fillStyle = c;
      ctx.globalAlpha = b[0] <= t ? 1 : 0.2;
      ctx.fillRect(x(b[0]), y0 - hh, bw, hh);
      y0 -= hh;
    }
  }
  ctx.globalAlpha = 1;
  for (const l of D.client.lost) {
    if (l.acked_at > t) continue;
    ctx.fillStyle = "#7a271a";
    ctx.fillRect(x(l.acked_at), h - 12, 1.5, 8);
  }
  ctx.fillStyle = "#102a43";
  ctx.fillRect(x(t) - 1, 0, 2, h - 12);
  ctx.fillStyle = "#7b8794";
  ctx.font = "10px ui-monospace, Menlo, Consolas, monospace";
  ctx.fillText("0s", 2, h - 1);
  ctx.fillText((D.duration / 1e6).toFixed(0) + "s", w - 24, h - 1);
  ctx.fillText("lost ▮", w / 2 - 20, h - 1);
}

function renderLostTable(t) {
  const lost = D.client.lost;
  let html = `<b>${lost.length}</b> acknowledged write${lost.length === 1 ? "" : "s"} lost by the end of the run` +
    (D.summary.final_node ? ` (final state: ${esc(D.summary.final_node)})` : "");
  if (lost.length) {
    html += "<table><tr><th>key</th><th>write</th><th>acked at</th><th>why</th></tr>";
    for (const l of lost.slice(0, 200)) {
      html += `<tr class="${l.acked_at > t ? "future" : ""}"><td>${esc(l.key)}</td><td>${esc(l.by)} #${l.seq}</td>` +
        `<td>${fmt(l.acked_at)}</td><td>${esc(D.client.reasons[l.reason])}</td></tr>`;
    }
    html += "</table>";
    if (lost.length > 200) html += `… and ${lost.length - 200} more`;
  }
  $("lost").innerHTML = html;
  $("verdicts").innerHTML = D.summary.verdicts.length
    ? "<b>expectations</b><br>" + D.summary.verdicts.map((v) =>
      `<span class="${v.holds ? "ok" : "bad"}">${v.holds ? "✔" : "✘"}</span> ${esc(v.description)} <span class="muted">(observed: ${esc(v.observed)})</span>`).join("<br>")
    : "";
}

// ------------------------------------------------- space-time cursor

/** The diagram and its rows, [time, y], from its data-rows attribute
 * (read again when a live page gets a new diagram). */
let stSvg = null, stRows = [];
function readDiagram() {
  stSvg = document.querySelector("svg.spacetime");
  stRows = stSvg && stSvg.dataset.rows
    ? stSvg.dataset.rows.split(",").map((p) => p.split(":").map(Number))
    : [];
}

/** Moves the cursor line down the diagram to time t (time is compressed
 * there, so the position is interpolated between the diagram's rows). */
function renderSpacetimeCursor(t) {
  const cursor = document.getElementById("st-cursor");
  if (!cursor || !stRows.length) return;
  let y;
  if (t <= stRows[0][0]) y = stRows[0][1] - 12;
  else if (t >= stRows[stRows.length - 1][0]) y = stRows[stRows.length - 1][1] + 12;
  else {
    const i = lastAtOrBefore(stRows, t, (r) => r[0]);
    const [t0, y0] = stRows[i], [t1, y1] = stRows[i + 1];
    y = y0 + ((y1 - y0) * (t - t0)) / (t1 - t0);
  }
  cursor.setAttribute("y1", y.toFixed(1));
  cursor.setAttribute("y2", y.toFixed(1));
  // While playing, keep the cursor in view.
  const box = stSvg.parentElement;
  if (P.playing && (y < box.scrollTop || y > box.scrollTop + box.clientHeight - 40)) {
    box.scrollTop = Math.max(0, y - box.clientHeight / 3);
  }
}

// ----------------------------------------------------------------- live

/** Merges a live lab's update (src/dashboard/live.rs `Update`) into D:
 * each list is cut where the update starts it and extended with what it
 * carries; the outcome is replaced. */
function merge(u) {
  const put = (arr, from, items) => { arr.length = Math.min(arr.length, from); for (const x of items) arr.push(x); };
  put(D.events, u.events_from, u.events);
  put(D.messages, u.messages_from, u.messages);
  put(D.streams, u.streams_from, u.streams);
  D.messages_over_cap = u.messages_over_cap;
  u.samples.forEach((items, n) => put(D.samples[n], u.samples_from[n], items));
  D.network = u.network;
  // The client view and the outcome come once a second.
  if (u.client) {
    const buckets = D.client.buckets;
    put(buckets, u.buckets_from, u.client.buckets);
    D.client = Object.assign({}, u.client, { buckets });
  }
  if (u.summary) D.summary = u.summary;
  D.duration = u.now;
  showSpeed(u.speed);
  if (u.spacetime) {
    $("spacetime-box").innerHTML = u.spacetime;
    readDiagram();
  }
  derive();
}

/** Shows the lab's speed in the speed list (adding it if the list lacks
 * it, as `--speed 3` would), unless the list has the focus. */
function showSpeed(speed) {
  const sel = $("speed"), v = String(speed);
  if (document.activeElement === sel || sel.value === v) return;
  if (![...sel.options].some((o) => o.value === v)) sel.add(new Option(v + "×", v));
  sel.value = v;
}

/** Sends a prompt line (a fault, `speed 10`) to the lab; shows its answer. */
function act(line) {
  $("live-status").textContent = line + " …";
  fetch("action", { method: "POST", body: line })
    .then((r) => r.text())
    .then((text) => { $("live-status").textContent = line + ": " + text; })
    .catch((e) => { $("live-status").textContent = line + ": " + e; });
}

/** The faults a node's panel offers in a live lab, as prompt lines. */
function nodeActions(n, t) {
  const node = D.nodes[n], lk = look(n, t), name = node.name;
  if (node.kind !== "redis" && node.kind !== "sentinel") return [];
  if (lk === "down") return [["restart", "restart " + name]];
  if (lk === "paused") return [["resume", "resume " + name]];
  // The faults the lab can cause here (a real deployment on loopback
  // cannot be partitioned, nor lose power).
  const offered = { kill: "kill", crash: "crash", pause: "pause", partition: "cut off" };
  return D.faults.filter((f) => offered[f]).map((f) => [offered[f], f + " " + name]);
}

function startLive() {
  P.follow = true;
  document.body.classList.add("live");
  $("live-bar").hidden = false;
  $("heal").addEventListener("click", () => act("heal"));
  $("heal").hidden = !D.faults.includes("partition");
  // Real processes run at the wall clock's pace only.
  if (!D.real) $("speed").addEventListener("change", (e) => act("speed " + e.target.value));
  $("node-detail").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-action]");
    if (b) act(b.dataset.action);
  });
  const source = new EventSource("events");
  source.onmessage = (e) => {
    merge(JSON.parse(e.data));
    $("scrub").max = Math.round(D.duration / 1000);
    if (P.follow) P.t = D.duration;
    render();
  };
  source.onerror = () => { $("live-status").textContent = "the lab is gone: this page shows the session up to then"; };
}

// --------------------------------------------------------------- render

function render() {
  const t = P.t;
  $("clock").textContent = fmt(t) + " / " + fmt(D.duration);
  $("scrub").value = Math.round(t / 1000);
  $("play").innerHTML = P.playing || P.follow ? "&#x275A;&#x275A;" : "&#x25B6;";
  renderTopology(t);
  renderNode(t);
  renderFacts(t);
  renderCards(t);
  renderLanes(t);
  renderLog(t);
  renderClient(t);
  renderSpacetimeCursor(t);
  if (P.lostShown !== (t >= D.duration)) {
    P.lostShown = t >= D.duration;
    renderLostTable(t);
  }
}

// --------------------------------------------------------------- wiring

function select(n) {
  P.selected = n;
  render();
}

function init() {
  $("scenario").textContent = D.real ? `${D.scenario} (real processes)` : `${D.scenario} (seed ${D.seed})`;
  $("question").textContent = D.question || (D.description || "").split("\n")[0];
  $("answer").textContent = D.answer ? "Answer: " + D.answer : "";
  $("scrub").max = Math.round(D.duration / 1000);
  if (D.messages_over_cap) {
    $("over-cap").textContent = `; ${D.messages_over_cap} control messages beyond the recording's cap are counted with the bands`;
  }
  $("scrub").addEventListener("input", (e) => { P.follow = false; setTime(Number(e.target.value) * 1000); });
  $("play").addEventListener("click", () => {
    // Live: the button follows the lab, or stops following it.
    if (D.live) { P.follow = !P.follow; setTime(P.follow ? D.duration : P.t); }
    else if (P.playing) pause(); else play();
  });
  $("rewind").addEventListener("click", () => { pause(); setTime(0); });
  $("step").addEventListener("click", () => step(1));
  $("back").addEventListener("click", () => step(-1));
  $("speed").addEventListener("change", (e) => { P.speed = Number(e.target.value); P.max = false; });
  readDiagram();
  derive();
  $("span").addEventListener("change", (e) => { P.span = Number(e.target.value); render(); });
  $("verbose").addEventListener("change", () => renderLog(P.t));
  $("lanes").addEventListener("mousemove", laneTooltip);
  $("lanes").addEventListener("mouseleave", () => { $("lane-tip").hidden = true; });
  for (const id of ["topology", "cards"]) {
    $(id).addEventListener("click", (e) => {
      const el = e.target.closest("[data-node]");
      if (el) select(Number(el.dataset.node));
    });
  }
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
    if (e.key === " ") { e.preventDefault(); P.playing ? pause() : play(); }
    else if (e.key === "ArrowRight") step(1);
    else if (e.key === "ArrowLeft") step(-1);
    else if (e.key === "Home") { pause(); setTime(0); }
  });
  window.addEventListener("resize", () => render());
  // URL fragment: #t=25.3&node=sentinel-1&speed=100&autoplay (speed=max
  // plays the whole run in about sixty frames).
  const opts = new Map(location.hash.slice(1).split("&").filter(Boolean).map((kv) => {
    const i = kv.indexOf("=");
    return i < 0 ? [kv, ""] : [kv.slice(0, i), decodeURIComponent(kv.slice(i + 1))];
  }));
  if (opts.has("speed")) {
    if (opts.get("speed") === "max") P.max = true;
    else {
      P.speed = Math.max(1, Math.min(1000, Number(opts.get("speed")) || 10));
      $("speed").value = String(P.speed);
    }
  }
  if (opts.has("node") && names.indexOf(opts.get("node")) >= 0 && names.indexOf(opts.get("node")) < N) {
    P.selected = names.indexOf(opts.get("node"));
  }
  if (opts.has("t")) P.t = Math.max(0, Math.min(D.duration, Math.round(Number(opts.get("t")) * 1e6) || 0));
  render();
  if (opts.has("autoplay")) play();
  if (D.live) startLive();
}

init();
