// The relationship graph: graphology holds it, sigma draws it with WebGL, ForceAtlas2 (in a web
// worker) lays it out, and a 2D overlay outlines the alliances.

import Graph from 'graphology';
import Sigma from 'sigma';
import FA2Layout from 'graphology-layout-forceatlas2/worker';
import { inferSettings } from 'graphology-layout-forceatlas2';
import { moodColor, affinityColor, groupColor } from './colors.js';

/** The graph panel. `onPick(id)` is called when a node is clicked. */
export class GraphView {
  constructor(container, onPick) {
    this.container = container;
    this.graph = new Graph({ type: 'undirected', allowSelfLoops: false });
    this.rows = new Map(); // "from>to" -> bond row (directed)
    this.groups = [];
    this.focus = null;
    this.layout = null;
    this.layoutTimer = null;
    this.onPick = onPick;
    this.sigma = new Sigma(this.graph, container, {
      allowInvalidContainer: true,
      renderEdgeLabels: false,
      hideEdgesOnMove: true,
      labelRenderedSizeThreshold: 9,
      labelColor: { color: '#d8dde3' },
      labelFont: 'system-ui, sans-serif',
      zIndex: true,
      defaultDrawNodeHover: drawHover,
      nodeReducer: (node, attrs) => this.reduceNode(node, attrs),
      edgeReducer: (edge, attrs) => this.reduceEdge(edge, attrs),
    });
    this.sigma.on('clickNode', ({ node }) => this.onPick(Number(node)));
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'hulls';
    container.appendChild(this.overlay);
    this.sigma.on('afterRender', () => this.drawHulls());
    this.frames = [];
    this.sigma.on('afterRender', () => {
      const now = performance.now();
      this.frames.push(now);
      if (this.frames.length > 120) this.frames.shift();
    });
  }

  reduceNode(node, attrs) {
    if (this.focus === null) return attrs;
    const id = Number(node);
    if (id === this.focus) return { ...attrs, highlighted: true, zIndex: 2, forceLabel: true };
    if (this.graph.hasEdge(node, String(this.focus))) return { ...attrs, zIndex: 1, forceLabel: true };
    return { ...attrs, color: '#3b4250', label: '', zIndex: 0 };
  }

  reduceEdge(edge, attrs) {
    if (this.focus === null) return attrs;
    const f = String(this.focus);
    if (this.graph.source(edge) === f || this.graph.target(edge) === f) return { ...attrs, zIndex: 1 };
    return { ...attrs, hidden: true };
  }

  /** Rebuilds from a snapshot, keeping the positions of characters already placed. */
  load(characters, relationships, groups) {
    const g = this.graph;
    const old = new Map();
    g.forEachNode((n, a) => old.set(n, [a.x, a.y]));
    g.clear();
    this.rows.clear();
    const n = characters.length;
    const scale = 10 * Math.sqrt(Math.max(n, 1));
    const size = n > 500 ? 2.5 : n > 100 ? 4 : 7;
    for (const c of characters) {
      const key = String(c.id);
      let [x, y] = old.get(key) || [undefined, undefined];
      if (x === undefined) {
        // A sunflower spiral by id: deterministic, evenly spread, a fair start for ForceAtlas2.
        const r = scale * Math.sqrt((c.id + 0.5) / Math.max(n, 1));
        const th = c.id * 2.399963;
        x = r * Math.cos(th);
        y = r * Math.sin(th);
      }
      g.addNode(key, {
        x,
        y,
        label: c.name,
        size: size * (0.7 + 0.6 * (c.status ?? 0.5)),
        color: moodColor(c.mood[0]),
        mood: c.mood,
      });
    }
    for (const row of relationships) this.setBond(row);
    this.groups = groups || [];
    this.container.dataset.nodeCount = String(g.order);
    this.container.dataset.edgeCount = String(g.size);
    this.relayout(old.size === 0 ? 6000 : 1500);
  }

  setBond(row) {
    const [from, to] = row;
    if (!this.graph.hasNode(String(from)) || !this.graph.hasNode(String(to))) return false;
    this.rows.set(`${from}>${to}`, row);
    const a = Math.min(from, to);
    const b = Math.max(from, to);
    const ab = this.rows.get(`${a}>${b}`);
    const ba = this.rows.get(`${b}>${a}`);
    const both = [ab, ba].filter(Boolean);
    const aff = both.reduce((s, r) => s + r[2], 0) / both.length;
    const trust = both.reduce((s, r) => s + r[3], 0) / both.length;
    const attrs = {
      color: affinityColor(aff),
      size: 0.4 + 3 * Math.max(0, trust),
      weight: Math.max(0.05, (aff + 1) / 2),
      affinity: aff,
      trust,
    };
    const key = `${a}-${b}`;
    if (this.graph.hasEdge(key)) {
      this.graph.mergeEdgeAttributes(key, attrs);
      return false;
    }
    this.graph.addEdgeWithKey(key, String(a), String(b), attrs);
    return true;
  }

  /** Applies a `graph` delta: bonds of pairs that interacted, moods that moved, new groups. */
  apply(delta) {
    let added = false;
    for (const row of delta.bonds || []) added = this.setBond(row) || added;
    for (const [id, p, a, d] of delta.moods || []) {
      const key = String(id);
      if (this.graph.hasNode(key)) this.graph.mergeNodeAttributes(key, { color: moodColor(p), mood: [p, a, d] });
    }
    if (delta.groups) this.groups = delta.groups;
    if (added) {
      this.container.dataset.edgeCount = String(this.graph.size);
      this.relayout(1500);
    }
  }

  /** Runs ForceAtlas2 in its worker for a while, then stops it (positions animate meanwhile). */
  relayout(ms) {
    if (this.graph.order === 0) return;
    if (!this.layout) {
      const settings = { ...inferSettings(this.graph), barnesHutOptimize: this.graph.order > 300, slowDown: 5 };
      this.layout = new FA2Layout(this.graph, { settings, getEdgeWeight: 'weight' });
    }
    if (!this.layout.isRunning()) this.layout.start();
    clearTimeout(this.layoutTimer);
    this.layoutTimer = setTimeout(() => this.layout && this.layout.stop(), ms + this.graph.order);
  }

  setFocus(id) {
    this.focus = id;
    this.sigma.refresh({ skipIndexation: true });
  }

  /** Node attributes for the panels (mood, name). */
  node(id) {
    const key = String(id);
    return this.graph.hasNode(key) ? this.graph.getNodeAttributes(key) : null;
  }

  drawHulls() {
    const c = this.overlay;
    const w = this.container.clientWidth;
    const h = this.container.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== w * dpr || c.height !== h * dpr) {
      c.width = w * dpr;
      c.height = h * dpr;
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    const ctx = c.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    for (const grp of this.groups) {
      const pts = [];
      for (const m of grp.members) {
        const a = this.node(m);
        if (a) pts.push(this.sigma.graphToViewport({ x: a.x, y: a.y }));
      }
      if (pts.length < 2) continue;
      const hull = convexHull(pts);
      const col = groupColor(grp.id);
      ctx.beginPath();
      const cx = hull.reduce((s, p) => s + p.x, 0) / hull.length;
      const cy = hull.reduce((s, p) => s + p.y, 0) / hull.length;
      hull.forEach((p, i) => {
        // Pushed out from the centre so the outline clears the nodes.
        const dx = p.x - cx;
        const dy = p.y - cy;
        const len = Math.hypot(dx, dy) || 1;
        const x = p.x + (dx / len) * 14;
        const y = p.y + (dy / len) * 14;
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      });
      ctx.closePath();
      ctx.fillStyle = `${col}22`;
      ctx.strokeStyle = `${col}cc`;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([5, 4]);
      ctx.fill();
      ctx.stroke();
    }
  }

  /** Mean milliseconds between the last rendered frames (while something moves). */
  frameStats() {
    const f = this.frames;
    if (f.length < 2) return null;
    const gaps = [];
    for (let i = 1; i < f.length; i++) gaps.push(f[i] - f[i - 1]);
    gaps.sort((a, b) => a - b);
    return {
      frames: f.length,
      mean: gaps.reduce((s, x) => s + x, 0) / gaps.length,
      p95: gaps[Math.floor(gaps.length * 0.95)],
    };
  }

  /**
   * Pixels the WebGL node layer has painted, read right after a synchronous render (the drawing
   * buffer is not preserved past the frame): a check that nodes are really on screen.
   */
  paintedPixels() {
    this.sigma.render();
    const src = this.sigma.getCanvases().nodes;
    const c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(src, 0, 0);
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
    return n;
  }

  kill() {
    clearTimeout(this.layoutTimer);
    if (this.layout) this.layout.kill();
    this.layout = null;
    this.sigma.kill();
  }
}

/** The hovered or focused node: a ring and its name on a dark label (sigma's default is white). */
function drawHover(ctx, data, settings) {
  if (!data.label) return;
  const size = settings.labelSize;
  ctx.font = `${settings.labelWeight} ${size}px ${settings.labelFont}`;
  const w = ctx.measureText(data.label).width + 10;
  const x = data.x + data.size + 4;
  const y = data.y - size / 2 - 4;
  ctx.fillStyle = '#1a2029';
  ctx.strokeStyle = '#4ea1ff';
  ctx.lineWidth = 1;
  ctx.fillRect(x, y, w, size + 8);
  ctx.strokeRect(x, y, w, size + 8);
  ctx.beginPath();
  ctx.arc(data.x, data.y, data.size + 3, 0, Math.PI * 2);
  ctx.stroke();
  ctx.fillStyle = '#ffffff';
  ctx.fillText(data.label, x + 5, data.y + size / 3);
}

/** Andrew's monotone chain convex hull of viewport points. */
function convexHull(points) {
  const p = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (p.length < 3) return p;
  const cross = (o, a, b) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const lower = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  upper.pop();
  lower.pop();
  return lower.concat(upper);
}
