// Measures the page with a 2,000-character world: starts a session from a generated population
// (the market_town_1000 recipe with count = 2000) on a running `aion serve`, opens it in headless
// Chromium and reports the time to the first graph, the frame times while ForceAtlas2 lays the
// graph out and sigma redraws it, and the cost of one full redraw. Not part of the test suite:
//   node e2e/graph-perf.mjs http://127.0.0.1:PORT [N]
import { chromium } from 'playwright-core';

const [base, nArg] = process.argv.slice(2);
const n = Number(nArg || 2000);
const user = `perf_${Date.now().toString(36).slice(-6)}`;
const cred = { username: user, password: 'correct horse battery' };
const post = async (path, body, token) => {
  const r = await fetch(`${base}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
};
await post('/auth/register', cred);
const { token } = await post('/auth/login', cred);
const toml = `format = "aion.scenario/1"
[world]
name = "Perf Town"
seed = 2000
genre = "drama"
[population]
count = ${n}
degree = 10
rewire = 0.1
spread = 0.35
id_prefix = "p"
`;
const s = await post('/sessions', { name: `perf ${n}`, scenario_toml: toml, rate: { mode: 'realtime', ticks_per_second: 2 } }, token);

const browser = await chromium.launch({
  executablePath: process.env.AION_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
await page.goto(base);
await page.evaluate(([t, u]) => {
  localStorage.setItem('aion.token', t);
  localStorage.setItem('aion.user', JSON.stringify(u));
}, [token, { username: user }]);
const t0 = Date.now();
await page.goto(`${base}/session/${s.id}`);
await page.waitForFunction((n) => Number(document.querySelector('[data-testid="graph"]')?.dataset.nodeCount) === n, n, { timeout: 120_000 });
const firstGraph = Date.now() - t0;
const stats = await page.evaluate(async () => {
  const g = window.__aion.graph;
  const v = window.__aion.view;
  // Main-thread time spent on deltas, by topic, and on sigma renders.
  const spent = {};
  const orig = v.delta.bind(v);
  v.delta = (f) => {
    const t = performance.now();
    orig(f);
    spent[f.topic] = (spent[f.topic] || 0) + performance.now() - t;
  };
  let renderStart = 0;
  g.sigma.on('beforeRender', () => (renderStart = performance.now()));
  g.sigma.on('afterRender', () => (spent.render = (spent.render || 0) + performance.now() - renderStart));
  // Frame gaps over 5 s (the page keeps receiving deltas).
  const measure = async () => {
    const gaps = [];
    let last = performance.now();
    const end = last + 5000;
    await new Promise((done) => {
      const f = (now) => {
        gaps.push(now - last);
        last = now;
        if (now < end) requestAnimationFrame(f);
        else done();
      };
      requestAnimationFrame(f);
    });
    gaps.sort((a, b) => a - b);
    return gaps;
  };
  const gaps = await measure(); // while ForceAtlas2 lays the graph out
  const layoutRunning = g.layout?.isRunning() ?? false;
  g.layout?.stop();
  const still = await measure(); // layout stopped: deltas recolour nodes and edges only
  // Pan the camera during a measurement: every frame redraws.
  const pan = (async () => {
    for (let i = 0; i < 50; i++) {
      g.sigma.getCamera().setState({ x: 0.5 + 0.1 * Math.sin(i / 5), ratio: 1 + 0.3 * Math.cos(i / 7) });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const moving = await measure();
  await pan;
  // One full synchronous redraw (reindex + render), 20 times.
  const t = performance.now();
  for (let i = 0; i < 20; i++) g.sigma.refresh();
  const redraw = (performance.now() - t) / 20;
  return {
    nodes: g.graph.order,
    edges: g.graph.size,
    frames: gaps.length,
    meanGap: gaps.reduce((s, x) => s + x, 0) / gaps.length,
    p95Gap: gaps[Math.floor(gaps.length * 0.95)],
    redraw,
    layoutRunning,
    stillMeanGap: still.reduce((s, x) => s + x, 0) / still.length,
    stillP95Gap: still[Math.floor(still.length * 0.95)],
    panMeanGap: moving.reduce((s, x) => s + x, 0) / moving.length,
    panP95Gap: moving[Math.floor(moving.length * 0.95)],
    spent_ms_in_5s: Object.fromEntries(Object.entries(spent).map(([k, x]) => [k, Math.round(x)])),
  };
});
await page.screenshot({ path: process.env.PERF_SHOT || 'graph-perf.png' });
console.log(JSON.stringify({ characters: n, first_graph_ms: firstGraph, ...stats }, (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v)));
await browser.close();
