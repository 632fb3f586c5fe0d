// Small hand-drawn canvas charts: lines over ticks and horizontal bars.

function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 300;
  const h = canvas.clientHeight || 120;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = '11px system-ui, sans-serif';
  return { ctx, w, h };
}

function fmt(v) {
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/**
 * Lines over a shared x axis. `series`: `[{name, color, values}]` (values aligned with `xs`;
 * null for a gap). `range` fixes the y range, else it fits the data.
 */
export function lineChart(canvas, xs, series, range) {
  const { ctx, w, h } = prepare(canvas);
  const padL = 38;
  const padR = 6;
  const padT = 16;
  const padB = 16;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (const v of s.values) {
      if (v === null || v === undefined || Number.isNaN(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (range) [lo, hi] = range;
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-9) {
    hi += 0.5;
    lo -= 0.5;
  }
  const X = (i) => padL + ((w - padL - padR) * i) / Math.max(1, xs.length - 1);
  const Y = (v) => padT + (h - padT - padB) * (1 - (v - lo) / (hi - lo));
  ctx.strokeStyle = '#2c3440';
  ctx.fillStyle = '#8b95a3';
  ctx.lineWidth = 1;
  for (const v of [lo, (lo + hi) / 2, hi]) {
    ctx.beginPath();
    ctx.moveTo(padL, Y(v));
    ctx.lineTo(w - padR, Y(v));
    ctx.stroke();
    ctx.fillText(fmt(v), 2, Y(v) + 4);
  }
  if (lo < 0 && hi > 0) {
    ctx.strokeStyle = '#4a5463';
    ctx.beginPath();
    ctx.moveTo(padL, Y(0));
    ctx.lineTo(w - padR, Y(0));
    ctx.stroke();
  }
  if (xs.length) {
    ctx.fillStyle = '#8b95a3';
    ctx.fillText(`t${xs[0]}`, padL, h - 3);
    const last = `t${xs[xs.length - 1]}`;
    ctx.fillText(last, w - padR - ctx.measureText(last).width, h - 3);
  }
  let lx = padL;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) {
        pen = false;
        return;
      }
      if (pen) ctx.lineTo(X(i), Y(v));
      else ctx.moveTo(X(i), Y(v));
      pen = true;
    });
    ctx.stroke();
    ctx.fillStyle = s.color;
    ctx.fillText(s.name, lx, 11);
    lx += ctx.measureText(s.name).width + 12;
  }
}

/** Horizontal stacked bars: `rows: [{label, parts: [{value, color}]}]`. */
export function barChart(canvas, rows) {
  const { ctx, w, h } = prepare(canvas);
  const padL = 110;
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((s, p) => s + p.value, 0)));
  const bh = Math.min(18, (h - 4) / Math.max(1, rows.length));
  rows.forEach((r, i) => {
    const y = 2 + i * bh;
    ctx.fillStyle = '#c4ccd6';
    ctx.fillText(r.label, 2, y + bh * 0.7);
    let x = padL;
    let total = 0;
    for (const p of r.parts) {
      const len = ((w - padL - 30) * p.value) / max;
      ctx.fillStyle = p.color;
      ctx.fillRect(x, y + 2, len, bh - 4);
      x += len;
      total += p.value;
    }
    ctx.fillStyle = '#8b95a3';
    ctx.fillText(String(total), x + 4, y + bh * 0.7);
  });
}
